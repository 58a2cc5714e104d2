/* provider.c - see provider.h.
 *
 * Values are the providers' published POP3 settings (source_url of each
 * preset).  Google's device flow does not allow the mail scope, so Gmail
 * uses the loopback flow (RFC 8252); Microsoft documents the device code
 * flow for POP ("Authenticate an IMAP, POP or SMTP connection using
 * OAuth"), which also works on a machine without a browser. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "provider.h"

#define GOOGLE_HELP "https://support.google.com/mail/answer/7104828"
#define MS_HELP "https://support.microsoft.com/en-us/office/" \
	"pop-imap-and-smtp-settings-for-outlook-com-d088b986-291d-42b8-9564-9c414e2aa040"
#define MS_OAUTH "https://login.microsoftonline.com/common/oauth2/v2.0/"

/* Every preset uses implicit TLS on 995 (none of them offers STLS on 110
 * as the recommended setting) and DESIGN.md's 300 s timeout, which also
 * meets Gmail's "at least 60 seconds". */
#define POP3S(h) (h), 995, TLS_IMPLICIT, 300
#define NO_OAUTH2 AUTH_AUTO, NULL, NULL, NULL, NULL, OAUTH2_FLOW_DEVICE
/* No login advice beyond the server's text, one session a poll. */
#define PLAIN_POP3 NULL, 0, 0

/* Gmail answers a wrong password, an account password (instead of an app
 * password) and an account with POP turned off alike: "-ERR [AUTH]
 * Username and password not accepted."  So the advice names all three. */
#define GMAIL_ADVICE \
	"Gmail accepts a login only when POP is turned on in Gmail's settings " \
	"(Forwarding and POP/IMAP), and then only with an app password (Google " \
	"Account > Security; it needs 2-Step Verification) or OAuth2 (an oauth2 " \
	"block, then popfetch --authorize %A), not the account's password"
/* Exchange Online and Outlook.com turned basic authentication off for POP
 * in 2022-2024: every password login is refused ("Logon failure: unknown
 * user name or bad password.", "Authentication failure", "Basic
 * authentication is disabled"), app passwords included. */
#define MICROSOFT_ADVICE \
	"Microsoft accepts only OAuth2 for POP, no password or app password: " \
	"add an oauth2 block with your own client ID (popfetch.conf(5), OAUTH2) " \
	"and run popfetch --authorize %A"
/* Gmail lists about 250 messages a session and hides a fetched message
 * from later sessions, whether it was deleted or not.  Ten sessions: 2500
 * messages a run, a first download of a large mailbox in a few runs,
 * while a server that hides nothing costs one extra session at most. */
#define GMAIL_SESSIONS 10, 250

/* Password providers whose web mail must be told first: Yahoo and AOL
 * (one company) accept only an app password; GMX, WEB.DE and mail.com
 * (one company, 1&1 Mail & Media) keep POP3 switched off until the user
 * turns it on.  One sentence each, so the advice reads alike. */
#define APP_PASSWORD(name, host, help, brand) \
	{ name, POP3S(host), NO_OAUTH2, help, \
	  brand " needs an app password (Account security > Generate app password)", PLAIN_POP3 }
#define POP3_SWITCHED_OFF(name, host, help, brand) \
	{ name, POP3S(host), NO_OAUTH2, help, \
	  "turn on POP3 access in " brand "'s web mail settings first", PLAIN_POP3 }

static const struct provider presets[] = {
	{ "gmail", POP3S("pop.gmail.com"), AUTH_XOAUTH2,
	  "https://accounts.google.com/o/oauth2/v2/auth", NULL,
	  "https://oauth2.googleapis.com/token", "https://mail.google.com/",
	  OAUTH2_FLOW_LOOPBACK, GOOGLE_HELP,
	  "turn on POP in Gmail's settings (Forwarding and POP/IMAP) first",
	  GMAIL_ADVICE, GMAIL_SESSIONS },
	{ "outlook", POP3S("outlook.office365.com"), AUTH_XOAUTH2,
	  MS_OAUTH "authorize", MS_OAUTH "devicecode", MS_OAUTH "token",
	  "https://outlook.office.com/POP.AccessAsUser.All offline_access",
	  OAUTH2_FLOW_DEVICE, MS_HELP,
	  "turn on POP in Outlook.com's settings (Mail > Forwarding and IMAP) first",
	  MICROSOFT_ADVICE, 0, 0 },
	APP_PASSWORD("yahoo", "pop.mail.yahoo.com", "https://help.yahoo.com/kb/SLN4724.html",
		     "Yahoo"),
	APP_PASSWORD("aol", "pop.aol.com",
		     "https://help.aol.com/articles/how-do-i-use-other-email-applications-to-send-and-"
		     "receive-my-aol-mail", "AOL"),
	{ "icloud", NULL, 0, TLS_IMPLICIT, 300, NO_OAUTH2,
	  "https://support.apple.com/en-us/102525",
	  "iCloud Mail offers IMAP only, no POP3, so popfetch cannot fetch from it", PLAIN_POP3 },
	POP3_SWITCHED_OFF("gmx", "pop.gmx.net", "https://hilfe.gmx.net/pop-imap/pop3/serverdaten.html",
			  "GMX"),
	POP3_SWITCHED_OFF("gmx.com", "pop.gmx.com",
			  "https://support.gmx.com/pop-imap/pop3/serverdata.html", "GMX"),
	POP3_SWITCHED_OFF("web.de", "pop3.web.de", "https://hilfe.web.de/pop-imap/pop3/serverdaten.html",
			  "WEB.DE"),
	POP3_SWITCHED_OFF("mail.com", "pop.mail.com",
			  "https://support.mail.com/pop-imap/pop3/serverdata.html", "mail.com"),
	{ "zoho", POP3S("pop.zoho.com"), NO_OAUTH2,
	  "https://www.zoho.com/mail/help/pop-access.html",
	  "organisation accounts use host poppro.zoho.com; turn on POP access in Zoho's settings",
	  PLAIN_POP3 },
};

#define NPRESETS (sizeof presets / sizeof presets[0])

static const struct { const char *alias, *name; } aliases[] = {
	{ "office365", "outlook" },
	{ "microsoft", "outlook" },
	{ "hotmail", "outlook" },
	{ "google", "gmail" },
};

/* Domain -> preset.  Only domains whose mail is served by the preset's
 * host; country variants the providers list on their help pages. */
static const struct { const char *domain, *name; } domains[] = {
	{ "gmail.com", "gmail" }, { "googlemail.com", "gmail" },
	{ "outlook.com", "outlook" }, { "hotmail.com", "outlook" },
	{ "live.com", "outlook" }, { "msn.com", "outlook" },
	{ "outlook.de", "outlook" }, { "hotmail.de", "outlook" },
	{ "hotmail.co.uk", "outlook" }, { "hotmail.fr", "outlook" },
	{ "live.de", "outlook" }, { "live.co.uk", "outlook" },
	{ "yahoo.com", "yahoo" }, { "ymail.com", "yahoo" }, { "rocketmail.com", "yahoo" },
	{ "yahoo.de", "yahoo" }, { "yahoo.co.uk", "yahoo" }, { "yahoo.fr", "yahoo" },
	{ "aol.com", "aol" },
	{ "icloud.com", "icloud" }, { "me.com", "icloud" }, { "mac.com", "icloud" },
	{ "gmx.de", "gmx" }, { "gmx.net", "gmx" }, { "gmx.at", "gmx" }, { "gmx.ch", "gmx" },
	/* GMX's international service has its own POP3 host. */
	{ "gmx.com", "gmx.com" },
	{ "web.de", "web.de" },
	{ "mail.com", "mail.com" },
	{ "zoho.com", "zoho" }, { "zohomail.com", "zoho" },
};

const struct provider *provider_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(aliases[i].alias, name) == 0)
			name = aliases[i].name;
	for (size_t i = 0; i < NPRESETS; i++)
		if (strcasecmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const struct provider *provider_from_address(const char *address)
{
	const char *at = address != NULL ? strrchr(address, '@') : NULL;

	if (at == NULL || at[1] == '\0')
		return NULL;
	for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++)
		if (strcasecmp(domains[i].domain, at + 1) == 0)
			return provider_find(domains[i].name);
	return NULL;
}

const struct provider *provider_at(size_t i)
{
	return i < NPRESETS ? &presets[i] : NULL;
}

int provider_login_advice(const struct provider *p, const char *account, char *buf,
			  size_t cap)
{
	const char *s, *mark;
	size_t n = 0, len;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	if (p == NULL || p->login_advice == NULL || account == NULL)
		return -1;
	for (s = p->login_advice;; s = mark + 2) {
		mark = strstr(s, "%A");
		len = mark != NULL ? (size_t)(mark - s) : strlen(s);
		if (n + len >= cap)
			break;
		memcpy(buf + n, s, len);
		n += len;
		if (mark == NULL) {
			buf[n] = '\0';
			return 0;
		}
		len = strlen(account);
		if (n + len >= cap)
			break;
		memcpy(buf + n, account, len);
		n += len;
	}
	buf[0] = '\0';
	return -1;
}

static int add_name(char *buf, size_t cap, size_t *n, const char *name)
{
	int w = snprintf(buf + *n, cap - *n, "%s%s", *n > 0 ? ", " : "", name);

	if (w < 0 || (size_t)w >= cap - *n)
		return -1;
	*n += (size_t)w;
	return 0;
}

int provider_list_names(char *buf, size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	for (size_t i = 0; i < NPRESETS; i++)
		if (add_name(buf, cap, &n, presets[i].name) < 0)
			return -1;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (add_name(buf, cap, &n, aliases[i].alias) < 0)
			return -1;
	return 0;
}
