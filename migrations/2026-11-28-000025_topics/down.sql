-- The codes stay in the arrays (the free texts they replaced are not kept).
DROP INDEX referrals_topics;
DROP INDEX committees_topics;
DROP TABLE topics;
