"""One adapter per channel. Each does two jobs only: turn what arrives into an `Inbound`, and
render each `Reply` for its medium. Deciding what to say is the handlers' job, never theirs."""
