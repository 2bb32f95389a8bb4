"""The delivery runtime: every outgoing notification is a row before it is a request.

`running` starts and stops it for one process; `scheduler` turns due announcements and
reminders into rows (APScheduler jobs derived from the database); `dispatcher` sends the rows
through each channel's `Sender` at the platform's pace. Persistence is storage's
(`storage.outbox`, `storage.broadcasts`, `storage.deliveries`)."""
