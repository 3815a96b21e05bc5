package client

import (
	"encoding/json"
	"testing"
)

func TestEndpointUpdateRemoveAuth(t *testing.T) {
	desc := "d"
	tests := []struct {
		name string
		in   EndpointUpdate
		want string
	}{
		{"nothing", EndpointUpdate{}, `{}`},
		{"remove only", EndpointUpdate{RemoveAuth: true}, `{"auth":null}`},
		{"remove and more", EndpointUpdate{RemoveAuth: true, Description: &desc}, `{"auth":null,"description":"d"}`},
		{"set", EndpointUpdate{Auth: &AuthInput{Type: AuthBearer, Token: "t"}}, `{"auth":{"type":"bearer","token":"t"}}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.in)
		if err != nil || string(b) != tt.want {
			t.Errorf("%s: %s, %v; want %s", tt.name, b, err, tt.want)
		}
	}
	if _, err := json.Marshal(EndpointUpdate{RemoveAuth: true, Auth: &AuthInput{Type: AuthBearer}}); err == nil {
		t.Error("Auth and RemoveAuth together encoded without an error")
	}
}
