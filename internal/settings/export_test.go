package settings

// Path is the settings file's path, for the tests of package settings_test.
func (s *Store) Path() string { return s.path }
