/* bounds.h - every cap on untrusted or growable data, in one place.
 *
 * Running over any of these is an error reported to the user, never a
 * silent truncation (STYLE.md item 6). */
#ifndef POPFETCH_BOUNDS_H
#define POPFETCH_BOUNDS_H

/* RFC 2449 section 4: status lines are at most 512 octets including CRLF.
 * Real servers exceed that with long greetings or -ERR texts, so accept a
 * few KiB and call anything longer a protocol error. */
#define PF_LINE_MAX 4096

/* RFC 1939 section 7: a unique-id is 1 to 70 characters in 0x21..0x7E. */
#define PF_UID_MAX 70

/* Hard cap for one message when max_size is unset (DESIGN.md section 8). */
#define PF_MSG_HARD_MAX (1024ULL * 1024 * 1024)

/* Messages in one maildrop listing; beyond this the listing is refused
 * rather than letting a hostile server exhaust memory. */
#define PF_LISTING_MAX 2000000UL

/* One human error sentence, server text included (sanitised). */
#define PF_ERRMSG_MAX 512

/* A password, app password or OAuth2 access token. */
#define PF_SECRET_MAX 8192

/* A SASL client message before base64 (RFC 4422): the secret, the user
 * name (tripled at worst by RFC 5801 saslname escaping), the host, the
 * port and the keywords around them. */
#define PF_SASL_RAW_MAX (PF_SECRET_MAX + 4 * PF_NAME_MAX + 64)

/* That message in base64 (RFC 4648: 4 characters per 3 bytes) plus NUL. */
#define PF_SASL_B64_MAX (4 * ((PF_SASL_RAW_MAX + 2) / 3) + 1)

/* ~/.netrc as a whole (a larger one is refused, not truncated). */
#define PF_NETRC_FILE_MAX (1024 * 1024)

/* File names and paths we build ourselves. */
#define PF_NAME_MAX 255
#define PF_PATH_MAX 4096

/* Bytes the connection reads ahead; also the decoder's chunk size. */
#define PF_IOBUF_SIZE (64 * 1024)

/* A line of the uid store file: "D <uid> <name> <t1> <t2>". */
#define PF_STORE_LINE_MAX (PF_UID_MAX + PF_NAME_MAX + 64)

/* Uid store file as a whole (a corrupted or hostile file is refused). */
#define PF_STORE_FILE_MAX (1024ULL * 1024 * 1024)

/* Every poll ends (DESIGN.md section 9): a message body or a listing
 * that, once `timeout` seconds have passed, has averaged fewer bytes a
 * second than min_rate is cut off.  1 KiB/s is far below any working
 * link, yet bounds a poll by the data it may carry (PF_MSG_HARD_MAX,
 * PF_LISTING_MAX) instead of by the server's patience. */
#define PF_MIN_RATE_DEFAULT 1024UL
#define PF_MIN_RATE_MAX (1024UL * 1024 * 1024)

/* Config: timeout in seconds, and the config file size. */
#define PF_TIMEOUT_MAX 3600
#define PF_CONFIG_FILE_MAX (1024 * 1024)

/* Accounts in one configuration (main file and accounts.d together), and
 * files in accounts.d. */
#define PF_CONFIG_ACCOUNTS_MAX 1024

/* OAuth2 (oauth2.c): one HTTP response body of a token or device
 * endpoint (real ones are a few KiB; a hostile server is cut off), the
 * token file state_dir/ACCOUNT.oauth2, a URL we build or are given, and
 * the one HTTP request the loopback redirect listener reads (RFC 8252). */
#define PF_OAUTH2_RESPONSE_MAX (64 * 1024)
#define PF_OAUTH2_FILE_MAX (4 * PF_SECRET_MAX)
#define PF_URL_MAX 4096
#define PF_HTTP_REQUEST_MAX 8192
/* An application/x-www-form-urlencoded request body: a few secrets of at
 * most PF_SECRET_MAX, each at worst tripled by percent-encoding, and the
 * keys and short values around them. */
#define PF_OAUTH2_FORM_MAX (3 * 3 * PF_SECRET_MAX + PF_URL_MAX)

#endif
