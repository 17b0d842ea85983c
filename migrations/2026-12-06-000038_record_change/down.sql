DROP FUNCTION record_change(text, text, uuid, text, text, uuid, boolean, uuid[], text[], boolean, jsonb, text[],
                            text[], uuid[], text, text, text, text, text[], uuid, text);
