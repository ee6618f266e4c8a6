/**
 * Plinth's built-in secret rules, in gitleaks' TOML format so a repository can extend them with
 * `[extend] useDefault = true`. Kept as a module (not a .toml file) so `tsc` carries it into dist/.
 *
 * Severity: critical for keys that open cloud accounts, code hosting, payments or package publishing;
 * high for webhooks, tokens and database passwords; medium for generic assignments (noisier).
 */
export const DEFAULT_RULES_TOML = String.raw`
title = "plinth built-in secret rules"

[[allowlists]]
description = "files that hold no hand-written secrets: lockfiles, images, fonts, archives, vendored code (node_modules is left to the tree walker's option)"
paths = [
  '''(?:^|/)(?:package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|deno\.lock|bun\.lockb|Cargo\.lock|go\.sum|poetry\.lock|Pipfile\.lock|composer\.lock|Gemfile\.lock|gradle\.lockfile)$''',
  '''(?i)\.(?:png|jpe?g|gif|bmp|ico|webp|tiff?|psd|svgz)$''',
  '''(?i)\.(?:woff2?|ttf|otf|eot)$''',
  '''(?i)\.(?:zip|gz|tgz|bz2|xz|7z|rar|jar|war|class|exe|dll|so|dylib|o|a|pdf|docx?|xlsx?|pptx?|wasm)$''',
  '''(?:^|/)(?:bower_components|vendor/bundle)/''',
  '''(?:^|/)\.git/''',
  '''(?:^|/)\.gitleaksignore$''',
  '''(?:^|/)\.plinth-secrets-baseline\.json$''',
]

[[allowlists]]
description = "placeholders and references, not values"
regexes = [
  '''(?i)^(?:true|false|null|nil|none|undefined)$''',
  '''^\$\{?[A-Za-z_][A-Za-z0-9_]*(?::?[-=?][^}]*)?\}?$''',
  '''^\$\{\{[^}]*\}\}$''',
  '''^\{\{[^}]*\}\}$''',
  '''^%\(?[A-Za-z_]+\)?s?%?$''',
  '''^<[^<>]+>$''',
  '''(?i)^(?:x{4,}|\*{3,}|\.{3,}|#{4,}|-{4,}|0{8,})$''',
  '''(?i)^(?:change_?me|changeit|replace_?me|your[_-]?\w*|redacted|placeholder|dummy|example|sample|secret|password|passw0rd|todo|tbd|fixme)$''',
]

[[rules]]
id = "aws-access-key-id"
description = "AWS access key id"
severity = "critical"
regex = '''\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b'''
entropy = 3
keywords = ["akia", "asia", "abia", "acca", "a3t"]
tags = ["aws", "key"]
[[rules.allowlists]]
description = "AWS's documented example key ids end in EXAMPLE"
regexes = ['''EXAMPLE$''']

[[rules]]
id = "aws-secret-access-key"
description = "AWS secret access key"
severity = "critical"
regex = '''(?i)(?:aws[\w.-]{0,20}?secret[\w.-]{0,20}|secret[_.-]?access[_.-]?key[\w.-]{0,10})[\s'"]{0,3}(?:=|:|=>|:=|,)[\s'"]{0,5}([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)'''
secretGroup = 1
entropy = 4
keywords = ["aws", "secret_access", "secretaccess", "secret-access", "secret.access"]
tags = ["aws", "key"]
[[rules.allowlists]]
stopwords = ["example", "exampl"]

[[rules]]
id = "gcp-service-account-key"
description = "Google Cloud service-account key file (private_key_id)"
severity = "critical"
regex = '''"private_key_id"\s*:\s*"([a-f0-9]{40})"'''
secretGroup = 1
entropy = 3
keywords = ["private_key_id"]
tags = ["gcp", "key"]

[[rules]]
id = "gcp-api-key"
description = "Google Cloud API key"
severity = "high"
regex = '''\b(AIza[\w-]{35})(?:[^\w-]|$)'''
entropy = 3.5
keywords = ["aiza"]
tags = ["gcp", "key"]

[[rules]]
id = "azure-storage-account-key"
description = "Azure storage account key (connection string or assignment)"
severity = "critical"
regex = '''(?i)(?:AccountKey=|(?:azure|storage)[\w.-]{0,30}?key[\w.-]{0,10}[\s'"]{0,3}(?:=|:|=>|:=)[\s'"]{0,5})([a-z0-9+/]{86}==)'''
secretGroup = 1
entropy = 4
keywords = ["accountkey", "azure", "storage"]
tags = ["azure", "key"]

[[rules]]
id = "azure-ad-client-secret"
description = "Azure AD (Entra ID) client secret"
severity = "critical"
regex = '''(?:^|[\\'"\x60\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"\x60\s<),])'''
entropy = 3
keywords = ["q~"]
tags = ["azure", "key"]

[[rules]]
id = "github-pat"
description = "GitHub personal access token (classic)"
severity = "critical"
regex = '''\bghp_[0-9a-zA-Z]{36}\b'''
entropy = 3
keywords = ["ghp_"]
tags = ["github", "token"]

[[rules]]
id = "github-fine-grained-pat"
description = "GitHub fine-grained personal access token"
severity = "critical"
regex = '''\bgithub_pat_\w{82}\b'''
entropy = 3
keywords = ["github_pat_"]
tags = ["github", "token"]

[[rules]]
id = "github-oauth-token"
description = "GitHub OAuth access token"
severity = "critical"
regex = '''\bgho_[0-9a-zA-Z]{36}\b'''
entropy = 3
keywords = ["gho_"]
tags = ["github", "token"]

[[rules]]
id = "github-app-token"
description = "GitHub App user-to-server or installation token"
severity = "critical"
regex = '''\b(?:ghu|ghs|ghr)_[0-9a-zA-Z]{36}\b'''
entropy = 3
keywords = ["ghu_", "ghs_", "ghr_"]
tags = ["github", "token"]

[[rules]]
id = "gitlab-pat"
description = "GitLab personal access token"
severity = "critical"
regex = '''\bglpat-[\w-]{20}(?:[\w-]{0,300}\.[0-9a-z]{9})?\b'''
entropy = 3
keywords = ["glpat-"]
tags = ["gitlab", "token"]

[[rules]]
id = "slack-token"
description = "Slack bot, user, app or configuration token"
severity = "high"
regex = '''\b(xox[baprs]-[0-9]{6,13}-[0-9A-Za-z-]{8,}|xoxe\.xox[bp]-\d-[A-Z0-9]{160,170}|xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{20,})\b'''
entropy = 3
keywords = ["xoxb", "xoxa", "xoxp", "xoxr", "xoxs", "xoxe", "xapp"]
tags = ["slack", "token"]

[[rules]]
id = "slack-webhook-url"
description = "Slack incoming webhook URL"
severity = "high"
regex = '''(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}'''
keywords = ["hooks.slack.com"]
tags = ["slack", "webhook"]

[[rules]]
id = "discord-webhook-url"
description = "Discord webhook URL"
severity = "high"
regex = '''https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[\w-]{60,68}'''
keywords = ["discord"]
tags = ["discord", "webhook"]

[[rules]]
id = "microsoft-teams-webhook-url"
description = "Microsoft Teams incoming webhook URL"
severity = "high"
regex = '''https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}@[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9]{8}-(?:[a-z0-9]{4}-){3}[a-z0-9]{12}'''
keywords = ["webhook.office.com"]
tags = ["teams", "webhook"]

[[rules]]
id = "stripe-live-key"
description = "Stripe live secret or restricted key"
severity = "critical"
regex = '''\b((?:sk|rk)_live_[a-zA-Z0-9]{20,99})\b'''
entropy = 3
keywords = ["sk_live", "rk_live"]
tags = ["stripe", "payment"]

[[rules]]
id = "twilio-api-key"
description = "Twilio API key SID with its secret nearby (SK…)"
severity = "high"
regex = '''\b(SK[0-9a-f]{32})\b'''
entropy = 3
keywords = ["sk"]
tags = ["twilio"]

[[rules]]
id = "twilio-auth-token"
description = "Twilio auth token"
severity = "high"
regex = '''(?i)twilio[\w.-]{0,20}?(?:auth|token|secret)[\w.-]{0,20}[\s'"]{0,3}(?:=|:|=>|:=)[\s'"]{0,5}([a-f0-9]{32})\b'''
secretGroup = 1
entropy = 3
keywords = ["twilio"]
tags = ["twilio"]

[[rules]]
id = "sendgrid-api-key"
description = "SendGrid API key"
severity = "high"
regex = '''\b(SG\.[\w-]{22}\.[\w-]{43})\b'''
entropy = 3
keywords = ["sg."]
tags = ["sendgrid"]

[[rules]]
id = "npm-access-token"
description = "npm access token"
severity = "critical"
regex = '''\b(npm_[a-zA-Z0-9]{36})\b'''
entropy = 3
keywords = ["npm_"]
tags = ["npm", "token"]

[[rules]]
id = "npmrc-auth-token"
description = "Registry auth token in an .npmrc"
severity = "critical"
regex = '''(?i)_auth(?:Token)?\s*=\s*([\w+/=.-]{20,})'''
secretGroup = 1
path = '''(?i)(?:^|/)\.(?:npmrc|yarnrc(?:\.yml)?)$'''
entropy = 3
keywords = ["_authtoken", "_auth"]
tags = ["npm", "token"]

[[rules]]
id = "pypi-upload-token"
description = "PyPI upload token"
severity = "critical"
regex = '''\bpypi-AgEIcHlwaS5vcmc[\w-]{50,1000}'''
entropy = 3
keywords = ["pypi-ageichlwas5vcmc"]
tags = ["pypi", "token"]

[[rules]]
id = "private-key"
description = "Private key (PEM or PGP block)"
severity = "critical"
regex = '''-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----'''
keywords = ["-----begin"]
tags = ["key"]

[[rules]]
id = "jwt"
description = "JSON Web Token"
severity = "high"
regex = '''\b(eyJ[a-zA-Z0-9_-]{15,}\.eyJ[a-zA-Z0-9_-]{15,}\.[a-zA-Z0-9_-]{10,})'''
entropy = 3
keywords = ["eyj"]
tags = ["jwt", "token"]

[[rules]]
id = "connection-string-password"
description = "Database or broker connection string with a password"
severity = "high"
regex = '''(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|amqps?|rediss?|mssql|sqlserver)://[^:@/\s'"]*:([^@/\s'"]{4,})@[\w.-]+'''
secretGroup = 1
entropy = 2.5
keywords = ["postgres", "mysql", "mariadb", "mongodb", "amqp", "redis", "mssql", "sqlserver"]
tags = ["database", "password"]
[[rules.allowlists]]
stopwords = ["password", "passwd", "changeme", "example", "secret", "dummy", "placeholder", "xxxx"]

[[rules]]
id = "generic-secret-assignment"
description = "Password, secret, token or API key assigned a high-entropy value"
severity = "medium"
regex = '''(?i)(?:passw(?:or)?d|pwd|secret|token|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?key|private[_.-]?key|credentials?)[\w.-]{0,20}[\s'"]{0,3}(?:=|:=|:|=>)[\s'"]{0,5}([\w.=+/~!@#$%^&*-]{10,150})(?:[\s'"\x60;,)\]}]|\\[nr]|$)'''
secretGroup = 1
entropy = 3.5
keywords = ["password", "passwd", "pwd", "secret", "token", "api_key", "api-key", "api.key", "apikey", "access_key", "access-key", "auth_key", "authkey", "private_key", "credential"]
tags = ["generic"]
[[rules.allowlists]]
description = "identifiers and dotted names, UUIDs, hex digests of at most 40 chars and file paths are not secrets"
regexes = [
  '''^[a-zA-Z_.-]+$''',
  '''^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$''',
  '''^(?:\.{1,2}/|/)[\w.-]+(?:/[\w.-]+)*$''',
  '''^[\w-]+(?:/[\w.-]+)*\.[a-z]{1,5}$''',
  '''^(?:process\.env|os\.environ|env|ENV|config|settings|import\.meta\.env)\.''',
  '''^\d+(?:\.\d+)*$''',
  '''\$\{|\{\{|\$\(''',
]
[[rules.allowlists]]
description = "in source code an unquoted right-hand side is an expression (an identifier, a call), not a literal"
condition = "AND"
paths = ['''(?i)\.(?:[cm]?[jt]sx?|java|kt|kts|scala|go|py|rb|php|cs|c|cc|cpp|h|hpp|rs|swift|dart|lua|pl|groovy|d\.ts)$''']
regexTarget = "match"
regexes = ['''^[^=:]*[=:]+>?[ \t]*[^\s'"\x60=>:]''']
[[rules.allowlists]]
description = "names that hold references to a secret, not the secret"
regexTarget = "match"
regexes = [
  '''(?i)(?:secret|token|key|password)[_.-]?(?:name|names|ref|arn|id|ids|version|length|size|type|path|file|url|uri|endpoint|field|label|hash|policy|min|max|ttl|expiry|expires|header|prefix|provider|store|manager|env|var|count)\b''',
  '''(?i)(?:csrf|xsrf|public|next|page|continuation|cancel(?:lation)?|refresh_token_url|idempotency)[_.-]?token''',
  '''(?i)\b(?:sort|primary|foreign|partition|cache|public)[_.-]?key[_.-]?(?:name|id)?\s*[:=]''',
]
stopwords = ["example", "sample", "dummy", "placeholder", "changeme", "redacted", "your_", "your-", "xxxx", "lorem", "fake", "mock", "test_", "notreal", "not_a_real", "insert"]
`;
