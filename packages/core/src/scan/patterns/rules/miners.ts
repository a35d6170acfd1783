import type { PatternRule } from '../rule.js';

export const MINER_RULES: readonly PatternRule[] = [
  {
    id: 'patterns/crypto-miner-pool',
    severity: 'high',
    certainty: 0.9,
    message: 'A stratum mining-pool URL: this code mines cryptocurrency or is configured to.',
    strings: { stratum: String.raw`(?i)\bstratum\d?\+(tcp|ssl|tls)://` },
    examples: {
      match: ['./xmrig -o stratum+tcp://pool.minexmr.com:4444 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A -p x', '"url": "stratum2+ssl://eth.example-pool.org:5555"'],
      notMatch: ['The stratum layer of the model', 'connect to tcp://localhost:4444'],
    },
  },
  {
    id: 'patterns/crypto-miner',
    severity: 'high',
    certainty: 0.7,
    message: 'Names a cryptocurrency miner, its hashing algorithm or its config keys (XMRig, CryptoNight, RandomX, mining pools).',
    strings: {
      xmrig: String.raw`(?i)\bxmrig(-notls|-cuda|-opencl)?\b`,
      cryptonight: String.raw`(?i)\bcryptonight(-lite|-light|-heavy|-pico)?\b`,
      donate: String.raw`(--|")donate-level"?\s{0,4}[:=\s]\s{0,4}[0-9]`,
      algo: String.raw`"algo"\s{0,4}:\s{0,4}"(rx/|cn/|cn-|randomx|argon2/|kawpow|ghostrider)`,
      pools: String.raw`\b(minergate\.com|nicehash\.com|nanopool\.org|supportxmr\.com|minexmr\.com|2miners\.com|f2pool\.com|hashvault\.pro|moneroocean\.stream|herominers\.com|c3pool\.com)\b`,
    },
    examples: {
      match: ['wget https://example.org/xmrig-6.21.0-linux-static-x64.tar.gz && ./xmrig', '{"cpu": true, "donate-level": 1}', '"algo": "rx/0",', 'algorithm: CryptoNight', '-o gulf.moneroocean.stream:10128'],
      notMatch: ['Monero is a privacy-focused cryptocurrency.', '"algo": "sha256"', 'pool.ntp.org'],
    },
  },
];
