package s3store

import "github.com/tusgate/tusgate/backends/multipart"

// engineConfig is what the part engine needs of c: S3's limits and the
// operator's part choices. Handle keys keep the "s3." namespace, so records
// written before the engine existed keep working.
func (c Config) engineConfig() multipart.Config {
	return multipart.Config{
		Namespace:     "s3",
		Prefix:        c.Prefix,
		MinPartSize:   c.MinPartSize,
		MaxPartSize:   MaxPartSize,
		MaxParts:      MaxParts,
		MaxObjectSize: c.MaxObjectSize,
		PartSize:      c.PartSize,
		EqualParts:    c.EqualParts,
		Concurrency:   c.Concurrency,
		CopyRangeMin:  copyRangeMin,
		DeferredTier:  c.deferredTier,
	}
}

// PartSizeFor returns the fixed part size for an upload of length bytes
// (-1: deferred), see multipart.Config.PartSizeFor.
func (c Config) PartSizeFor(length int64) (int64, error) { return c.engineConfig().PartSizeFor(length) }

// layoutFor chooses the layout of a new upload (multipart.Config.LayoutFor).
func (c Config) layoutFor(length int64) (multipart.Layout, error) {
	return c.engineConfig().LayoutFor(length)
}

// connections is the most connections to the store: max_connections, else
// derived from the budget (multipart.Connections).
func connections(cfg Config, budget int64) int {
	if cfg.MaxConnections > 0 {
		return cfg.MaxConnections
	}
	return multipart.Connections(cfg.MinPartSize, budget)
}
