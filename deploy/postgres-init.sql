-- One database per service (DESIGN section 2: no service reads another's database).
-- Run by the postgres image on first start of an empty data volume, as POSTGRES_USER, which
-- then owns the databases. Services also create their database when it is missing; this
-- script makes the layout explicit. Safe to run again by hand: psql -f deploy/postgres-init.sql
SELECT format('CREATE DATABASE %I', name)
FROM unnest(ARRAY['oms_gateway', 'oms_orders', 'oms_inventory', 'oms_fulfillment', 'oms_returns'])
     AS wanted(name)
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = wanted.name)
\gexec
