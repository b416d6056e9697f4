// The issue specifies the baseline as the SDK's multipart uploader
// (feature/s3/manager), which the SDK now marks deprecated in favour of
// transfermanager; it is still the uploader most code uses.
//lint:file-ignore SA1019 the benchmark's baseline is this uploader

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// sdkMethod uploads directly with the SDK's multipart uploader (default
// settings but the part size).
type sdkMethod struct {
	sdkRun
	up     *manager.Uploader
	bucket string
}

func newSDKMethod(b *bucket, partSize int64) *sdkMethod {
	up := manager.NewUploader(b.client, func(u *manager.Uploader) { u.PartSize = partSize })
	return &sdkMethod{up: up, bucket: b.name}
}

func (m *sdkMethod) upload(ctx context.Context, i int, seed uint64, size int64) (string, error) {
	key := m.key(i)
	_, err := m.up.Upload(ctx, &s3.PutObjectInput{Bucket: &m.bucket, Key: &key, Body: newSource(seed, size)})
	return key, err
}
