-- The key store and the analytics events in databases of their own (compose.yaml; decision 0036).
CREATE DATABASE backgroundmusic_keys OWNER backgroundmusic;
CREATE DATABASE backgroundmusic_analytics OWNER backgroundmusic;
