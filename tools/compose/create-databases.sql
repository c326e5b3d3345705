-- One database per service (docker-compose's PostgreSQL runs this on first start).
CREATE DATABASE jobs;
CREATE DATABASE artifacts;
