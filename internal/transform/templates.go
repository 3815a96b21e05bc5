package transform

import "slices"

// Template is a ready transformation that turns any event into a chat provider's
// incoming-webhook message; the endpoint's URL is the provider's webhook URL.
type Template struct {
	Name        string
	Description string
	Script      string
}

// Templates returns the ready transformations, by name.
func Templates() []Template {
	return []Template{
		{Name: "slack", Description: "Slack incoming webhook: the event type and the payload as a code block", Script: slackTemplate},
		{Name: "discord", Description: "Discord webhook: the event type and the payload as a code block", Script: discordTemplate},
		{Name: "teams", Description: "Microsoft Teams incoming webhook: a message card with the event type and the payload", Script: teamsTemplate},
	}
}

// TemplateByName returns the template called name.
func TemplateByName(name string) (Template, bool) {
	ts := Templates()
	i := slices.IndexFunc(ts, func(t Template) bool { return t.Name == name })
	if i < 0 {
		return Template{}, false
	}
	return ts[i], true
}

// slackTemplate: Slack requires text (the notification fallback) and accepts blocks; a
// section's text holds at most 3000 characters.
const slackTemplate = `function handler(webhook) {
  var body = JSON.stringify(webhook.payload, null, 2);
  if (body.length > 2800) body = body.slice(0, 2800) + "\n…";
  webhook.payload = {
    text: "Event " + webhook.eventType,
    blocks: [
      {type: "section", text: {type: "mrkdwn", text: "*" + webhook.eventType + "*"}},
      {type: "section", text: {type: "mrkdwn", text: "` + "```" + `" + body + "` + "```" + `"}}
    ]
  };
  return webhook;
}
`

// discordTemplate: Discord requires content (at most 2000 characters) or embeds.
const discordTemplate = `function handler(webhook) {
  var body = JSON.stringify(webhook.payload, null, 2);
  if (body.length > 1800) body = body.slice(0, 1800) + "\n…";
  webhook.payload = {
    content: "**" + webhook.eventType + "**\n` + "```" + `json\n" + body + "\n` + "```" + `",
    allowed_mentions: {parse: []}
  };
  return webhook;
}
`

// teamsTemplate: a legacy actionable message card, which Teams incoming webhooks take:
// @type MessageCard, @context, and a summary or text.
const teamsTemplate = `function handler(webhook) {
  var body = JSON.stringify(webhook.payload, null, 2);
  if (body.length > 20000) body = body.slice(0, 20000) + "\n…";
  var escaped = body.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  webhook.payload = {
    "@type": "MessageCard",
    "@context": "https://schema.org/extensions",
    summary: "Event " + webhook.eventType,
    themeColor: "0076D7",
    title: webhook.eventType,
    text: "<pre>" + escaped + "</pre>"
  };
  return webhook;
}
`
