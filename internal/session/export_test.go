package session

// Names the tests of package session_test use that are not part of the package's API.

// DeriveV4Key is deriveV4Key.
var DeriveV4Key = deriveV4Key
