"""The sandbox: a deterministic simulated B2B world behind local Marketo, HubSpot,
Salesforce and Slack-webhook emulators, so Nurture runs and is tested with no accounts."""
