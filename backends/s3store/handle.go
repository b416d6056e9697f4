package s3store

import "github.com/tusgate/tusgate/backends/multipart"

// Keys of Upload.Handle owned by this backend: the part engine's keys in the
// "s3" namespace (see multipart.Keys), spelled out because records in
// existing state stores carry them.
const (
	HandleKey       = "s3.key"
	HandleUploadID  = "s3.upload_id"
	HandlePartSize  = "s3.part_size"
	HandleLayout    = "s3.layout"
	HandleTailKey   = "s3.tail_key"
	HandleTailSize  = "s3.tail_size"
	HandleStaleTail = "s3.stale_tail"
	HandleChecksum  = "s3.checksum"
)

// tailInfix separates the object key from the tail suffix.
const tailInfix = multipart.TailInfix

// handle is the engine's parsed handle.
type handle = multipart.Handle
