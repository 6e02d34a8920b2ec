"""Everything that talks to Label Studio. Carries data, never models."""
