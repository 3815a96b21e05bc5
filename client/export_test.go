package client

// The unexported wire types, for the external test that checks them against openapi.yaml.
type (
	List[T any]   = list[T]
	ErrorBody     = errorBody
	Secrets       = secrets
	SourceSecrets = sourceSecrets
	BatchResults  = batchResults
)
