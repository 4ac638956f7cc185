"""cri input: Kubernetes pod logs (containerd/CRI-O format) with P/F partial merge, kubelet-style
rotation (rename to <n>.log.<timestamp> + new file) and tags from the path."""
import os
import threading
import time
from datetime import datetime, timedelta, timezone

import support
from test_docker_input import SEQ_RE, collect, record_message

LOCAL = timezone(timedelta(hours=2))


def cri_time(t=None):
    t = time.time_ns() if t is None else t
    s, ns = divmod(t, 1_000_000_000)
    base = datetime.fromtimestamp(s, LOCAL).strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{ns:09d}".rstrip("0")
    return base + ("." + frac if frac else "") + "+02:00"


def cri_line(content, stream="stdout", tag="F", t=None):
    return f"{cri_time(t)} {stream} {tag} {content}\n".encode()


class CriInputTest(support.TestCase):

    def test_pods_rotation_partials_and_tags(self):
        pods = os.path.join(self.tmp, "pods")
        out = os.path.join(self.tmp, "out")
        cdir = os.path.join(pods, "shop_api-7d9f-x2x_0f1e2d3c-1111-2222", "api")
        os.makedirs(cdir)
        path = os.path.join(cdir, "0.log")
        d = self.daemon(f"""
service:
  state_dir: {self.tmp}/state
inputs:
  k8s:
    type: cri
    pods_root: {pods}
    rescan_interval: 200ms
    rotate_wait: 1s
outputs:
  archive:
    type: file
    path: {out}/{{namespace}}/{{pod}}/{{container_name}}.log
    compress: false
""").start()
        count = 20000
        rotations = 0

        def writer():
            nonlocal rotations
            f = open(path, "ab")
            s = 0
            while s < count:
                f.write(cri_line(record_message("api", s), "stdout" if s % 3 else "stderr"))
                s += 1
                if s % 2000 == 0 and s < count:
                    f.flush()
                    os.rename(path, f"{path}.20240501-1000{rotations:02d}")
                    rotations += 1
                    for _ in range(5):   # still going to the renamed file
                        if s < count:
                            f.write(cri_line(record_message("api", s)))
                            s += 1
                    f.close()
                    f = open(path, "ab")
                elif s % 500 == 0:
                    f.flush()
                    time.sleep(0.01)
            # A long line cut into P/P/F chunks, another stream interleaved.
            big = "c=api seq=%d " % count + "".join(chr(0x61 + k % 26) for k in range(40000))
            chunks = [big[i:i + 16384] for i in range(0, len(big), 16384)]
            for i, ch in enumerate(chunks):
                f.write(cri_line(ch, "stderr", "F" if i == len(chunks) - 1 else "P"))
                if i == 0:
                    f.write(cri_line(record_message("api", count + 1), "stdout"))
            f.close()
            writer.big = big

        t = threading.Thread(target=writer)
        t.start()
        t.join(60)
        support.wait_for(lambda: len(set(collect(out)[0].get("api", []))) >= count + 2,
                         timeout=60, interval=0.2, what="all CRI records")
        time.sleep(1.0)
        self.assertEqual(d.stop(), 0)
        seqs, raw, recs = collect(out)
        self.assertEqual(raw, [])
        self.assertEqual(sorted(seqs["api"]), list(range(count + 2)))
        self.assertGreaterEqual(rotations, 9)
        r0 = next(r for r in recs if r["message"].startswith("c=api seq=0 "))
        self.assertEqual(r0["namespace"], "shop")
        self.assertEqual(r0["pod"], "api-7d9f-x2x")
        self.assertEqual(r0["pod_uid"], "0f1e2d3c-1111-2222")
        self.assertEqual(r0["container_name"], "api")
        self.assertEqual(r0["stream"], "stderr")
        self.assertTrue(r0["timestamp"].endswith("Z"))
        big = next(r for r in recs if r["message"].startswith(f"c=api seq={count} "))
        self.assertTrue(big["message"] == writer.big, "merged P/F line differs")
        self.assertEqual(big["stream"], "stderr")
        self.assertTrue(os.path.exists(os.path.join(out, "shop", "api-7d9f-x2x", "api.log")))


if __name__ == "__main__":
    support.main()
