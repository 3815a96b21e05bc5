package webhook

import (
	"fmt"
	"strings"
)

// providers is the NewProvider registry, in ProviderNames order.
var providers = [...]struct {
	name string
	new  func(secret string, opts ...Option) (Provider, error)
}{
	{"openai", func(s string, o ...Option) (Provider, error) { return asProvider(NewOpenAI(s, o...)) }},
	{"standard", func(s string, o ...Option) (Provider, error) { return asProvider(NewStandard(s, o...)) }},
	{"svix", func(s string, o ...Option) (Provider, error) { return asProvider(NewSvix(s, o...)) }},
	{"stripe", func(s string, o ...Option) (Provider, error) { return asProvider(NewStripe(s, o...)) }},
	{"github", func(s string, o ...Option) (Provider, error) { return asProvider(NewGitHub(s, o...)) }},
	{"shopify", func(s string, o ...Option) (Provider, error) { return asProvider(NewShopify(s, o...)) }},
	{"slack", func(s string, o ...Option) (Provider, error) { return asProvider(NewSlack(s, o...)) }},
}

// asProvider converts a constructor's result without turning a nil pointer into a non-nil interface.
func asProvider[P Provider](p P, err error) (Provider, error) {
	if err != nil {
		return nil, err
	}
	return p, nil
}

// NewProvider returns the provider registered under name (case-insensitive; see
// ProviderNames) for secret. The generic HMAC verifier is not in the registry because it
// needs more than a secret: build it with NewHMAC. An unknown name wraps ErrInvalidConfig.
func NewProvider(name, secret string, opts ...Option) (Provider, error) {
	key := strings.ToLower(strings.TrimSpace(name))
	for _, p := range providers {
		if p.name == key {
			return p.new(secret, opts...)
		}
	}
	return nil, fmt.Errorf("%w: unknown provider %q, want one of %s", ErrInvalidConfig, name, strings.Join(ProviderNames(), ", "))
}

// ProviderNames returns the names NewProvider accepts: openai, standard, svix, stripe,
// github, shopify and slack, in that order.
func ProviderNames() []string {
	names := make([]string, len(providers))
	for i, p := range providers {
		names[i] = p.name
	}
	return names
}
