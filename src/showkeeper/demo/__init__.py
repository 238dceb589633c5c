"""`showkeeper demo`: a server with sample sources it serves itself on 127.0.0.1 (a video
podcast feed, an HLS series with two variants, an HTTP directory), setup done, nothing fetched
from the internet. The engine has no special case for it: the demo's own loopback address is
the only private network it allows."""
