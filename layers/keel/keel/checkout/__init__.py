"""Workshop ticket checkout: events per city, tier inventory with a ledger, holds, registrations."""
