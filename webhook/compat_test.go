package webhook_test

import (
	"github.com/openai/openai-go/v3"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

var (
	_ = openai.NewClient
	_ = standardwebhooks.NewWebhook
)
