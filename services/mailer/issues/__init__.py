"""Newsletter issues: written in Markdown, previewed, test-sent, sent now or scheduled."""
