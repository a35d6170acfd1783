# Warden's Python code server: runs the cells of one code context, one after
# another, in one namespace that persists between them.
#
# Started by the host as `python3 -c LOADER`: the loader reads this source
# from stdin (a decimal length line, then the bytes) and runs it. From then
# on stdin carries requests and stdout events, one JSON object per line (see
# packages/core/src/code/framing.ts). Before any user code runs, the server
# moves both off fds 0 and 1: fd 0 becomes /dev/null, and fds 1 and 2 pipes
# the server reads, so neither user code nor the programs it starts can read
# the requests or corrupt the events, and what they write to fds 1 and 2
# arrives as the cell's stdout and stderr, in order with its prints.
#
# The host interrupts a cell with SIGINT (KeyboardInterrupt in the cell). The
# server defers an interrupt that arrives while it writes an event, so an
# event line is never cut in half, and ignores one that arrives between cells.
import ast
import base64
import builtins
import codecs
import io
import json
import linecache
import os
import select
import signal
import sys
import threading
import time
import types

_PROTO_IN = os.dup(0)
_PROTO_OUT = os.dup(1)
_MAIN_THREAD = threading.get_ident()

# Text is sent in events of at most this many characters; pending text is
# flushed once it holds this much, and otherwise within _LINGER_S.
_CHUNK_CHARS = 1024 * 1024
_FLUSH_CHARS = 64 * 1024
_LINGER_S = 0.002
_POLL_S = 0.0005
_CO_COROUTINE = 0x80
# Tracebacks show the source of this many recent cells; older ones are forgotten.
_KEEP_SOURCES = 1000
_TLA = getattr(ast, 'PyCF_ALLOW_TOP_LEVEL_AWAIT', 0)


class _State:
    in_cell = False
    critical = 0
    deferred = False


_S = _State()


def _on_sigint(signum, frame):
    if not _S.in_cell:
        return
    if _S.critical:
        _S.deferred = True
        return
    raise KeyboardInterrupt


def _enter():
    if threading.get_ident() == _MAIN_THREAD:
        _S.critical += 1


def _leave():
    if threading.get_ident() != _MAIN_THREAD:
        return
    _S.critical -= 1
    if _S.critical == 0 and _S.deferred:
        _S.deferred = False
        if _S.in_cell:
            raise KeyboardInterrupt


def _write_fd(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_all(data):
    _write_fd(_PROTO_OUT, data)


class _Output:
    """Pending stdout/stderr text, flushed as events in order with the other events."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.size = 0
        self.last_flush = 0.0
        self.armed = False
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        # fd -> (stream, decoder) of the pipes on fds 1 and 2
        self.fds = {}
        self.last_poll = 0.0
        self.poll = select.poll()
        self.forked = None

    def watch(self, fd, stream):
        os.set_blocking(fd, False)
        self.fds[fd] = (stream, codecs.getincrementaldecoder('utf-8')('replace'))
        self.poll.register(fd, select.POLLIN)

    def _add_locked(self, stream, text):
        items = self.items
        if items and items[-1][0] == stream:
            items[-1][1].append(text)
        else:
            items.append((stream, [text]))
        self.size += len(text)

    def after_fork_in_child(self):
        # A child made by os.fork() (multiprocessing) has no pump thread, and the lock may have been
        # held by it at the fork: the child writes its text to fds 1 and 2, which the parent reads,
        # a line at a time (so lines of sibling processes do not mix).
        self.lock = threading.Lock()
        self.items = []
        self.size = 0
        self.forked = {'stdout': [], 'stderr': []}

    def _child_write(self, stream, text, whole=False):
        parts = self.forked[stream]
        parts.append(text)
        if not whole and '\n' not in text:
            return
        data = ''.join(parts)
        cut = len(data) if whole else data.rindex('\n') + 1
        parts[:] = [data[cut:]] if cut < len(data) else []
        _write_fd(1 if stream == 'stdout' else 2, data[:cut].encode('utf-8', 'replace'))

    def flush_child(self, stream):
        if self.forked and self.forked[stream]:
            self._child_write(stream, '', whole=True)

    def add(self, stream, text):
        if not text:
            return
        if self.forked:
            self._child_write(stream, text)
            return
        _enter()
        try:
            with self.lock:
                now = time.monotonic()
                # A line after a quiet spell goes out at once (print() writes the text, then '\n'), after what
                # programs wrote to fd 1 before it; anything else waits up to _LINGER_S to join the next event.
                flush = self.size + len(text) >= _FLUSH_CHARS or (now - self.last_flush >= _LINGER_S and text.endswith('\n'))
                # What programs wrote to fds 1 and 2 goes first, so print() after os.system() keeps its place.
                # A program takes far longer than _POLL_S to start and write, so looking once per
                # _POLL_S is enough and keeps tight print loops free of system calls.
                if flush or now - self.last_poll >= _POLL_S:
                    self.last_poll = now
                    self._drain_fd_locked()
                self._add_locked(stream, text)
                if flush:
                    self._flush_locked(now, ())
                elif not self.armed:
                    self.armed = True
                    os.write(self.wake_w, b'.')
        finally:
            _leave()

    def _drain_fd_locked(self):
        for fd, _ in self.poll.poll(0):
            stream, decoder = self.fds[fd]
            while True:
                try:
                    data = os.read(fd, 65536)
                except (BlockingIOError, InterruptedError):
                    break
                if not data:
                    break
                self._add_locked(stream, decoder.decode(data))

    def _flush_locked(self, now, events):
        parts = []
        for stream, texts in self.items:
            text = ''.join(texts)
            # Text goes raw after a header line: no JSON escaping of megabytes of output.
            for i in range(0, len(text), _CHUNK_CHARS):
                data = text[i:i + _CHUNK_CHARS].encode('utf-8', 'replace')
                parts.append(b'{"type":"%s","bytes":%d}\n' % (stream.encode(), len(data)))
                parts.append(data)
        for event in events:
            parts.append(json.dumps(event, ensure_ascii=False).encode('utf-8', 'replace') + b'\n')
        self.items = []
        self.size = 0
        self.armed = False
        self.last_flush = now
        if parts:
            _write_all(b''.join(parts))

    def send(self, events=(), drain=False):
        """Flushes pending text (first reading what waits on fd 1 when `drain`), then writes `events`."""
        if self.forked:
            return
        _enter()
        try:
            with self.lock:
                if drain:
                    self._drain_fd_locked()
                self._flush_locked(time.monotonic(), events)
        finally:
            _leave()

    def pump(self):
        """Thread: forwards what programs write to fds 1 and 2, and flushes text left pending."""
        while True:
            try:
                ready, _, _ = select.select(list(self.fds) + [self.wake_r], [], [])
            except (OSError, ValueError):
                return
            if self.wake_r in ready:
                try:
                    os.read(self.wake_r, 4096)
                except BlockingIOError:
                    pass
                time.sleep(_LINGER_S)
            with self.lock:
                if any(fd in ready for fd in self.fds):
                    self._drain_fd_locked()
                if self.items and (self.wake_r in ready or self.size >= _FLUSH_CHARS):
                    self._flush_locked(time.monotonic(), ())
                elif self.items and not self.armed:
                    self.armed = True
                    os.write(self.wake_w, b'.')


_OUT = _Output()


class _Stream(io.TextIOBase):
    """sys.stdout / sys.stderr of the cells: text goes straight into the events."""

    def __init__(self, name, fd):
        super().__init__()
        self._name = name
        self._fd = fd
        self._bytes = _BytesStream(self)

    @property
    def name(self):
        return '<%s>' % self._name

    @property
    def encoding(self):
        return 'utf-8'

    @property
    def errors(self):
        return 'strict'

    @property
    def buffer(self):
        return self._bytes

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self._fd

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('write() argument must be str, not %s' % type(s).__name__)
        _OUT.add(self._name, s)
        return len(s)

    def flush(self):
        _OUT.flush_child(self._name)


class _BytesStream(io.RawIOBase):
    def __init__(self, text):
        super().__init__()
        self._text = text
        self._decoder = codecs.getincrementaldecoder('utf-8')('replace')

    def writable(self):
        return True

    def fileno(self):
        return self._text.fileno()

    def write(self, b):
        data = bytes(b)
        _OUT.add(self._text._name, self._decoder.decode(data))
        return len(data)


class _Stdin(io.TextIOBase):
    def readable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return 0

    def read(self, size=-1):
        raise EOFError('stdin is not available in a code cell: put the data in the code or in a file')

    readline = read


# ---------------------------------------------------------------- results

_REPR_METHODS = (
    ('_repr_html_', 'html'),
    ('_repr_markdown_', 'markdown'),
    ('_repr_svg_', 'svg'),
    ('_repr_png_', 'png'),
    ('_repr_jpeg_', 'jpeg'),
    ('_repr_pdf_', 'pdf'),
    ('_repr_latex_', 'latex'),
    ('_repr_json_', 'json'),
    ('_repr_javascript_', 'javascript'),
)
_MIME_KEYS = {
    'text/plain': 'text',
    'text/html': 'html',
    'text/markdown': 'markdown',
    'image/svg+xml': 'svg',
    'image/png': 'png',
    'image/jpeg': 'jpeg',
    'application/pdf': 'pdf',
    'text/latex': 'latex',
    'application/json': 'json',
    'application/javascript': 'javascript',
}
_BINARY_KEYS = ('png', 'jpeg', 'pdf')


def _note(message):
    _OUT.add('stderr', message)


def _repr_data(obj, attr):
    # Classes carry the unbound methods of their instances; objects that answer
    # every attribute (mocks, proxies) are not asked for rich representations.
    if isinstance(obj, type):
        return None
    try:
        if getattr(obj, '_warden_canary_attribute_that_does_not_exist_', None) is not None:
            return None
        method = getattr(obj, attr, None)
        if not callable(method):
            return None
        data = method()
    except Exception as e:
        _note('%s.%s() failed: %r\n' % (type(obj).__name__, attr, e))
        return None
    if isinstance(data, tuple) and len(data) == 2:
        data = data[0]
    return data


def _put(result, key, data):
    if data is None or key in result:
        return
    if key in _BINARY_KEYS:
        if isinstance(data, (bytes, bytearray, memoryview)):
            result[key] = base64.b64encode(bytes(data)).decode('ascii')
        elif isinstance(data, str):
            result[key] = data.strip()
    elif key == 'json':
        try:
            json.dumps(data)
        except (TypeError, ValueError):
            return
        result[key] = data
    elif isinstance(data, str):
        result[key] = data


def _figure_png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format='png', bbox_inches='tight')
    return base64.b64encode(buf.getvalue()).decode('ascii')


def _is_figure(obj):
    figure = sys.modules.get('matplotlib.figure')
    return figure is not None and isinstance(obj, figure.Figure)


def _format(obj, main):
    result = {}
    if _is_figure(obj):
        try:
            result['png'] = _figure_png(obj)
        except Exception as e:
            _note('drawing the figure failed: %r\n' % (e,))
    bundle = _repr_data(obj, '_repr_mimebundle_')
    if isinstance(bundle, dict):
        extra = {}
        for mime, data in bundle.items():
            key = _MIME_KEYS.get(mime)
            if key:
                _put(result, key, data)
            elif isinstance(mime, str) and isinstance(data, (str, int, float, bool, list, dict)):
                extra[mime] = data
        if extra:
            result['extra'] = extra
    for attr, key in _REPR_METHODS:
        if key not in result:
            _put(result, key, _repr_data(obj, attr))
    if 'text' not in result:
        try:
            result['text'] = repr(obj)
        except Exception as e:
            result['text'] = '<repr of %s failed: %r>' % (type(obj).__name__, e)
    result['isMainResult'] = main
    return result


def _open_figures(skip=None):
    """Results for the open matplotlib figures (all but `skip`), which are then closed."""
    plt = sys.modules.get('matplotlib.pyplot')
    if plt is None:
        return []
    try:
        from matplotlib._pylab_helpers import Gcf
        figures = [m.canvas.figure for m in Gcf.get_all_fig_managers()]
        results = [_format(f, False) for f in figures if f is not skip]
        plt.close('all')
        return results
    except Exception as e:
        _note('collecting the matplotlib figures failed: %r\n' % (e,))
        return []


def display(*objs):
    """Shows each object as a result of the cell (rich when it can: HTML, PNG, ...)."""
    _OUT.send([{'type': 'result', 'result': _format(o, False)} for o in objs])


def _show(*args, **kwargs):
    _OUT.send([{'type': 'result', 'result': r} for r in _open_figures()])


class _PyplotHook:
    """Imports matplotlib.pyplot as usual, then makes plt.show() show the figures as results."""

    def find_spec(self, name, path, target=None):
        if name != 'matplotlib.pyplot':
            return None
        import importlib.machinery
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, 'exec_module'):
            return spec
        real = spec.loader.exec_module

        def exec_module(module):
            real(module)
            module.show = _show

        spec.loader.exec_module = exec_module
        return spec


def _matplotlib_defaults():
    env = os.environ
    env.setdefault('MPLBACKEND', 'Agg')
    # Debian reads its matplotlibrc from /etc, which a sandbox may not have.
    debian_rc = '/usr/share/matplotlib/mpl-data/matplotlibrc'
    if 'MATPLOTLIBRC' not in env and not os.path.exists('/etc/matplotlibrc') and os.path.exists(debian_rc):
        env['MATPLOTLIBRC'] = debian_rc
    private = os.path.join(env.get('TMPDIR') or '/tmp', '.warden-code')
    if 'MPLCONFIGDIR' not in env:
        env['MPLCONFIGDIR'] = os.path.join(private, 'matplotlib')
    # Without /etc/fonts, fontconfig (run by matplotlib) complains on stderr and caches in $HOME.
    if 'FONTCONFIG_FILE' not in env and not os.path.exists('/etc/fonts/fonts.conf') and os.path.isdir('/usr/share/fonts'):
        try:
            os.makedirs(private, exist_ok=True)
            conf = os.path.join(private, 'fonts.conf')
            with open(conf, 'w') as f:
                f.write('<?xml version="1.0"?>\n<fontconfig><dir>/usr/share/fonts</dir><cachedir>%s</cachedir></fontconfig>\n' % os.path.join(private, 'fontconfig'))
            env['FONTCONFIG_FILE'] = conf
        except OSError:
            pass


# ---------------------------------------------------------------- cells

class _Nothing:
    pass


_NOTHING = _Nothing()
_loop = None


def _run(code, ns):
    global _loop
    value = eval(code, ns)
    if code.co_flags & _CO_COROUTINE:
        if _loop is None:
            import asyncio
            _loop = asyncio.new_event_loop()
        value = _loop.run_until_complete(value)
    return value


def _execute(source, filename, ns):
    tree = compile(source, filename, 'exec', ast.PyCF_ONLY_AST | _TLA, dont_inherit=True)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(';'):
        last = ast.Expression(tree.body.pop().value)
    if tree.body:
        _run(compile(tree, filename, 'exec', _TLA, dont_inherit=True), ns)
    if last is None:
        return _NOTHING
    return _run(compile(last, filename, 'eval', _TLA, dont_inherit=True), ns)


def _error_event(e):
    import traceback
    tb = e.__traceback__
    # Start at the cell's own frames: the server's are noise to the user.
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith('<cell-'):
        tb = tb.tb_next
    try:
        value = str(e)
    except Exception:
        value = '<str() of the exception failed>'
    try:
        te = traceback.TracebackException(type(e), e, tb)
        # ... and so are the server's frames after them (the interrupt handler, sys.stdin).
        te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename != '<warden>'])
        text = ''.join(te.format())
    except Exception:
        text = '%s: %s\n' % (type(e).__name__, value)
    return {'type': 'error', 'name': type(e).__name__, 'value': value, 'traceback': text}


def _requests():
    buf = bytearray()
    start = 0
    while True:
        i = buf.find(b'\n', start)
        if i >= 0:
            line = bytes(buf[:i])
            del buf[:i + 1]
            start = 0
            yield line
            continue
        start = len(buf)
        chunk = os.read(_PROTO_IN, 1 << 20)
        if not chunk:
            return
        buf += chunk


def _serve(ns):
    count = 0
    for line in _requests():
        request = json.loads(line)
        if request.get('op') != 'run':
            continue
        count += 1
        source = request['code']
        filename = '<cell-%d>' % count
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        linecache.cache.pop('<cell-%d>' % (count - _KEEP_SOURCES), None)
        value = _NOTHING
        error = None
        try:
            try:
                _S.in_cell = True
                value = _execute(source, filename, ns)
            finally:
                _S.in_cell = False
                _S.deferred = False
        except BaseException as e:
            error = e
        events = []
        if error is None and value is not _NOTHING and value is not None:
            ns['_'] = value
            try:
                events.append({'type': 'result', 'result': _format(value, True)})
            except Exception as e:
                _note('formatting the result failed: %r\n' % (e,))
        for r in _open_figures(skip=value):
            events.append({'type': 'result', 'result': r})
        if error is not None:
            events.append(_error_event(error))
        del error, value
        events.append({'type': 'done', 'id': request.get('id'), 'executionCount': count})
        _OUT.send(events, drain=True)


def _main():
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.close(null)
    for fd, stream in ((1, 'stdout'), (2, 'stderr')):
        r, w = os.pipe()
        os.dup2(w, fd)
        os.close(w)
        _OUT.watch(r, stream)
    sys.stdin = _Stdin()
    sys.stdout = _Stream('stdout', 1)
    sys.stderr = _Stream('stderr', 2)
    sys.argv = ['']
    signal.signal(signal.SIGINT, _on_sigint)
    _matplotlib_defaults()
    sys.meta_path.insert(0, _PyplotHook())
    main = types.ModuleType('__main__')
    main.__dict__['__builtins__'] = builtins
    sys.modules['__main__'] = main
    builtins.display = display
    os.register_at_fork(after_in_child=_OUT.after_fork_in_child)
    threading.Thread(target=_OUT.pump, name='warden-output', daemon=True).start()
    v = sys.version_info
    _OUT.send([{'type': 'ready', 'language': 'python', 'version': '%d.%d.%d' % (v[0], v[1], v[2]), 'pid': os.getpid()}])
    _serve(main.__dict__)
    os._exit(0)


_main()
