"""Portal UI: which client contacts may use the client portal, their invitations and activation."""
