package server

// ObserveWrite tells the server's write health that a write was answered status, as
// the API does after each write (for package server_test).
func (s *Server) ObserveWrite(status int) { s.writes.observe(status) }

// NodeID returns the delivery engine's node id (for package server_test).
func (s *Server) NodeID() string { return s.engine.NodeID() }
