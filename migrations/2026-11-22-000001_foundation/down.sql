DROP TABLE funding_lines;
DROP TABLE organisations;
DROP TABLE districts;
DROP FUNCTION uuid_generate_v7();
