package sqlstore

// FillBatch appends to batch what is queued on ops, without waiting, until batch holds
// max: how a group-committing writer gathers the writes that share a transaction.
func FillBatch[T any](batch []T, ops <-chan T, max int) []T {
	for len(batch) < max {
		select {
		case op := <-ops:
			batch = append(batch, op)
		default:
			return batch
		}
	}
	return batch
}
