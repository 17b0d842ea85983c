DROP FUNCTION event_audiences(boolean, uuid[], text[]);
