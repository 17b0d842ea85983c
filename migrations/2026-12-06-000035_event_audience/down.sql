DROP TRIGGER events_audience_sequenced ON events;
DROP TRIGGER events_audience_inserted ON events;
DROP FUNCTION event_audience_sequenced();
DROP FUNCTION event_audience_inserted();
DROP TABLE event_audience;
