DROP TABLE grant_years;
DROP TABLE funding_line_years;
