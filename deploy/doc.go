// Package deploy holds the tests for Housekeeper's deployment artefacts: the
// root Dockerfile, the Helm chart under deploy/helm/housekeeper and the
// GitHub App manifest app.yml. It is a separate Go module so that the
// product module does not depend on Kubernetes, BuildKit or Helm libraries.
package deploy
