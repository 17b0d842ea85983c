DROP TABLE grant_notices;
