"""The storage queues' names, the one place they are written: the function folders'
triggers, the adapters, devtools, benchmarks and tests all take them from here (it
imports nothing, so a trigger can name its queue at import time for free)."""

LEARNING_EVENTS = "learning-events"
LEARNING_EVENTS_POISON = f"{LEARNING_EVENTS}-poison"
CREDITS_DUE = "credits-due"
CREDITS_DUE_POISON = f"{CREDITS_DUE}-poison"
WEBHOOK_DELIVERIES = "webhook-deliveries"
WEBHOOK_DELIVERIES_POISON = f"{WEBHOOK_DELIVERIES}-poison"
ALL_QUEUES = (
    LEARNING_EVENTS,
    LEARNING_EVENTS_POISON,
    CREDITS_DUE,
    CREDITS_DUE_POISON,
    WEBHOOK_DELIVERIES,
    WEBHOOK_DELIVERIES_POISON,
)
REPLAYABLE = (LEARNING_EVENTS, CREDITS_DUE, WEBHOOK_DELIVERIES)
"""The queues whose poison messages an operator may move back."""
