package testenv

import (
	"context"
	"os"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// Azurite returns the connection string of the Azure Blob endpoint (Azurite
// started by scripts/services/azurite.sh) and the container tests may use,
// from TUSGATE_TEST_AZURE_CONNECTION_STRING and TUSGATE_TEST_AZURE_CONTAINER
// (default tusgate-test). The container is created when missing.
//
// When the connection string is unset the test is skipped, or fails when
// TUSGATE_REQUIRE_SERVICES=1 so CI never skips silently.
func Azurite(t testing.TB) (connString, containerName string) {
	t.Helper()
	connString = os.Getenv("TUSGATE_TEST_AZURE_CONNECTION_STRING")
	containerName = os.Getenv("TUSGATE_TEST_AZURE_CONTAINER")
	if containerName == "" {
		containerName = "tusgate-test"
	}
	if connString == "" {
		Unavailable(t, "TUSGATE_TEST_AZURE_CONNECTION_STRING is not set (start Azurite with scripts/services/azurite.sh)")
	}
	c, err := container.NewClientFromConnectionString(connString, containerName, nil)
	if err != nil {
		t.Fatalf("azurite: %v", err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		t.Fatalf("azurite: creating container %s: %v", containerName, err)
	}
	return connString, containerName
}
