DROP TABLE obligation_reminders;
DROP VIEW obligations;
