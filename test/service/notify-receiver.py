# A real AF_UNIX datagram receiver, as systemd's notify socket is: binds the path given (a leading '@' is the
# abstract namespace), prints "bound", then one JSON line per datagram with its text. File descriptors that come
# with a message (systemd-notify's BARRIER=1) are closed at once, which is how the manager answers the barrier.
import json, os, socket, sys

addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
print("bound", flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(16 * 4))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for i in range(0, len(payload) - len(payload) % 4, 4):
                os.close(int.from_bytes(payload[i:i + 4], sys.byteorder))
    print(json.dumps(data.decode()), flush=True)
