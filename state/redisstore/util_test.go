package redisstore_test

import (
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func redisZ(at time.Time, id string) redis.Z {
	return redis.Z{Score: float64(at.UnixMilli()), Member: id}
}
