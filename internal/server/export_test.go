package server

// ObserveWrite lets the tests of package server_test report an answer to the server's
// write health, as its handler does.
func (s *Server) ObserveWrite(status int) { s.writes.observe(status) }
