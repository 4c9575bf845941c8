-- docker-compose: the one database per service (the local cluster creates them in deploy/local/lib.sh).
CREATE DATABASE guli_payment;
CREATE DATABASE guli_oms;
CREATE DATABASE guli_wms;
CREATE DATABASE guli_ums;
CREATE DATABASE guli_sms;
