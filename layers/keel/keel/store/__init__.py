"""DynamoDB access: key builders, the table wrapper, transactions, outbox and audit writers."""
