package inngest

// BatchBody exposes batchBody to the package's external tests (the
// benchmark), without exporting it from the package.
var BatchBody = batchBody
