package s3store

import "github.com/tusgate/tusgate/backends/multipart"

// engineConfig is what the part engine needs of c: S3's limits and the
// operator's part choices. Handle keys keep the "s3." namespace, so records
// written before the engine existed keep working.
func (c Config) engineConfig() multipart.Config {
	return c.EngineConfig(multipart.Config{
		Namespace:    "s3",
		Prefix:       c.Prefix,
		MaxPartSize:  MaxPartSize,
		MaxParts:     MaxParts,
		CopyRangeMin: copyRangeMin,
		DeferredTier: c.deferredTier,
	})
}

// PartSizeFor returns the fixed part size for an upload of length bytes
// (-1: deferred), see multipart.Config.PartSizeFor.
func (c Config) PartSizeFor(length int64) (int64, error) { return c.engineConfig().PartSizeFor(length) }

// layoutFor chooses the layout of a new upload (multipart.Config.LayoutFor).
func (c Config) layoutFor(length int64) (multipart.Layout, error) {
	return c.engineConfig().LayoutFor(length)
}
