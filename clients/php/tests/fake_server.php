<?php
// A fake camd for FakeServerTest: listens on a Unix path and misbehaves as told
// (php fake_server.php PATH MODE). Prints "ready" once listening.
// Modes: midline (closes in the middle of a reply line), silent (never answers),
// restart (answers one request, closes, then answers on the next connection),
// wrongid (answers with another request's id), garbled (answers a line that is not JSON).
declare(strict_types=1);

[, $path, $mode] = $argv;
@unlink($path);
$srv = stream_socket_server("unix://$path", $errno, $errstr);
if ($srv === false) {
    fwrite(STDERR, "listen: $errstr\n");
    exit(1);
}
echo "ready\n";
fflush(STDOUT);

function reply(int $id): string
{
    return '{"id":' . $id . ',"result":{"Ok":{"Decision":{"allowed":true,"reason":"Allow","policy":"P","statement":0,"uin":1}}}}' . "\n";
}

$held = [];
for ($conn = 0; $conn < 10; $conn++) {
    $c = @stream_socket_accept($srv, 30);
    if ($c === false) {
        exit(0);
    }
    $line = fgets($c);
    if ($line === false) {
        continue;
    }
    $id = json_decode($line, true)['id'] ?? 0;
    switch ($mode) {
        case 'midline':
            fwrite($c, substr(reply($id), 0, 30));
            fclose($c);
            break;
        case 'silent':
            $held[] = $c; // keep it open, say nothing
            break;
        case 'restart':
            fwrite($c, reply($id));
            if ($conn === 0) {
                // camd "restarts": the open connection is closed after its answer.
                $next = fgets($c);
                fclose($c);
            } else {
                while (($l = fgets($c)) !== false) {
                    fwrite($c, reply(json_decode($l, true)['id']));
                }
            }
            break;
        case 'wrongid':
            fwrite($c, reply($id + 1));
            $held[] = $c;
            break;
        case 'garbled':
            fwrite($c, "this is not json\n");
            $held[] = $c;
            break;
    }
}
