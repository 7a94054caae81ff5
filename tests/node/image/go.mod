// The test image's only program (and the node's pause program): a static binary with no
// dependency beyond the standard library, packed into one-layer OCI images by
// tests/helpers/oci_image.py.
module github.com/ocp/registry_access/tests/node/image

go 1.26.0
