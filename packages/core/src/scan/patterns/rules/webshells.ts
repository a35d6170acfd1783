import type { PatternRule } from '../rule.js';

const INPUT = String.raw`\$_(POST|GET|REQUEST|COOKIE)\b`;

export const WEBSHELL_RULES: readonly PatternRule[] = [
  {
    id: 'patterns/webshell-php-eval',
    severity: 'high',
    certainty: 0.85,
    message: 'PHP that evaluates request input or a base64/gzip-wrapped blob as code: a webshell.',
    strings: {
      eval_input: String.raw`(?i)\b(eval|assert|create_function)\s{0,4}\([^;\n]{0,80}${INPUT}`,
      eval_packed: String.raw`(?i)\b(eval|assert)\s{0,4}\(\s{0,4}(gzinflate|gzuncompress|gzdecode|str_rot13)\s{0,4}\(\s{0,4}base64_decode\s{0,4}\(`,
      eval_blob: String.raw`(?i)\beval\s{0,4}\(\s{0,4}base64_decode\s{0,4}\(\s{0,4}["'][A-Za-z0-9+/=]{40,900}`,
    },
    examples: {
      match: [
        "<?php eval($_POST['cmd']); ?>",
        "<?php @eval(base64_decode($_REQUEST['x'])); ?>",
        "<?php assert(stripslashes($_GET['c']));",
        "eval(gzinflate(base64_decode('7b0HYBxJliUmL23Kn1ZlZWmV')));",
        "eval(base64_decode('ZWNobyAiaGVsbG8iOyBzeXN0ZW0oJF9HRVRbJ2MnXSk7IC8vIHBhZGRpbmc='));",
      ],
      notMatch: ["$name = htmlspecialchars($_POST['name']);", 'eval("1 + 1");', "$data = base64_decode($_POST['blob']);"],
    },
  },
  {
    id: 'patterns/webshell-php-system',
    severity: 'high',
    certainty: 0.85,
    message: 'PHP that runs request input as an operating-system command or calls a function named by the request: a webshell.',
    strings: {
      exec_input: String.raw`(?i)\b(system|passthru|shell_exec|exec|popen|proc_open|pcntl_exec)\s{0,4}\([^;\n]{0,40}${INPUT}`,
      backtick: String.raw`(?i)\x60[^\x60\n]{0,20}\$_(POST|GET|REQUEST|COOKIE)\[`,
      dynamic_call: String.raw`(?i)\$_(POST|GET|REQUEST|COOKIE)\s{0,4}\[[^\]\n]{1,40}\]\s{0,4}\(\s{0,4}${INPUT}`,
    },
    examples: {
      match: ["<?php system($_REQUEST['cmd']); ?>", "<?php echo shell_exec($_GET['c'] . ' 2>&1'); ?>", "<?php echo `$_GET[c]`; ?>", "<?php $_GET['f']($_GET['a']); ?>"],
      notMatch: ["system('ls -la');", "$cmd = escapeshellarg($_GET['file']);\nsystem('ls ' . $cmd);"],
    },
  },
  {
    id: 'patterns/webshell-jsp',
    severity: 'high',
    certainty: 0.8,
    message: 'A JSP page that runs request parameters as operating-system commands: a webshell.',
    strings: {
      runtime: String.raw`getRuntime\s{0,4}\(\s{0,4}\)\s{0,4}\.\s{0,4}exec\s{0,4}\([^;\n]{0,60}request\.getParameter\b`,
      builder: String.raw`\bnew\s{1,4}ProcessBuilder\s{0,4}\([^;\n]{0,80}request\.getParameter\b`,
      indirect: String.raw`request\.getParameter\s{0,4}\([\x00-\xff]{0,300}getRuntime\s{0,4}\(\s{0,4}\)\s{0,4}\.\s{0,4}exec\s{0,4}\(`,
    },
    examples: {
      match: [
        '<% Process p = Runtime.getRuntime().exec(request.getParameter("cmd")); %>',
        '<% new ProcessBuilder(new String[]{"sh", "-c", request.getParameter("c")}).start(); %>',
        '<%\nString cmd = request.getParameter("cmd");\nProcess p = Runtime.getRuntime().exec(cmd);\n%>',
      ],
      notMatch: ['String name = request.getParameter("name");\nout.println(name);', 'Process p = Runtime.getRuntime().exec(new String[]{"git", "status"});'],
    },
  },
];
