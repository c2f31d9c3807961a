namespace Basalt.Tests.Replication;

/// <summary>Deterministic command sequences per family, compared against Redis 7.0's AOF.</summary>
internal static class PropagationCorpus
{
    public static readonly Dictionary<string, string[]> Cases = new()
    {
        ["strings-set"] = [
            "SET a 1", "SET a 2 NX", "SET a 3 XX", "set a 4 get", "SET b 1 NX GET", "SET a 5 EX 100 GET",
            "SETNX a 1", "SETNX c 1", "MSET a 1 b 2", "MSETNX a 1 z 3", "MSETNX y 1 z 3", "GETSET a 9", "SET a v keepttl"],
        ["strings-expire-forms"] = [
            "SET a 1 EX 100", "SET a 1 PX 100000", "set a 1 exat 99999999999", "SET a 1 PXAT 9999999999999",
            "SETEX b 100 v", "PSETEX c 100000 v", "SET a 1 EXAT 1", "SET a 2", "SETEX b 0 v", "SET e v PX 0"],
        ["strings-getex-getdel"] = [
            "SET a v", "GETEX a", "GETEX a EX 100", "GETEX a PX 100000", "GETEX a EXAT 99999999999", "GETEX a PERSIST",
            "GETEX a PERSIST", "GETEX nokey EX 10", "GETEX a PXAT 1", "SET b v", "GETDEL b", "GETDEL b", "GETDEL nokey"],
        ["strings-modify"] = [
            "APPEND a x", "APPEND a yz", "SETRANGE a 0 \"\"", "SETRANGE n 0 \"\"", "SETRANGE a 1 Q", "SETRANGE n2 3 Q",
            "INCR i", "INCRBY i 5", "DECR i", "DECRBY i 2", "INCR a", "INCRBYFLOAT f 1.5", "INCRBYFLOAT f 1e3",
            "SET g 3 EX 100", "INCRBYFLOAT g 0.25", "INCRBYFLOAT a 1", "SET h 10", "INCRBYFLOAT h 5.0e-1"],
        ["keys-expire"] = [
            "SET a 1", "EXPIRE a 100", "PEXPIRE a 100000", "EXPIREAT a 99999999999", "PEXPIREAT a 9999999999999",
            "EXPIRE a 100 NX", "EXPIRE a 200 XX", "EXPIRE a 50 GT", "EXPIRE a 300 LT", "PERSIST a", "PERSIST a",
            "EXPIRE nokey 10", "SET b 1", "EXPIRE b -1", "SET c 1", "PEXPIREAT c 1", "SET d 1", "EXPIREAT d 0",
            "SET e 1", "pexpireat e 9999999999999", "expire e 100 xx", "pexpire e 100000 lt", "set f 1 pxat 9999999999999 get",
            "setex f 100 v", "getex f exat 99999999999", "MULTI", "SETEX g 10 v", "PSETEX h 10 v", "GETEX g PERSIST", "EXEC"],
        ["keys-generic"] = [
            "SET a 1", "SET b 2", "DEL nokey", "DEL a nokey", "UNLINK b nokey", "UNLINK b", "SET a 1",
            "RENAME a b", "RENAME nokey c", "RENAMENX b c", "SET d 1", "RENAMENX c d", "COPY c e", "COPY c e",
            "COPY c e REPLACE", "MOVE e 1", "MOVE e 1", "SET e 2", "MOVE e 1", "SWAPDB 0 1", "SELECT 1", "SET x 1",
            "SELECT 0", "TOUCH d", "EXPIRE d 100", "RENAME d f", "COPY f g DB 2", "SELECT 2", "DEL g"],
        ["keys-flush"] = [
            "SET a 1", "FLUSHDB", "FLUSHDB", "SET a 1", "FLUSHALL ASYNC", "SELECT 3", "SET a 1", "FLUSHDB SYNC", "FLUSHALL SYNC"],
        ["hashes"] = [
            "HSET h a 1 b 2", "HSET h a 1", "HSETNX h a 1", "HSETNX h c 3", "HMSET h d 4", "HDEL h nokey", "HDEL h a",
            "HINCRBY h n 5", "HINCRBYFLOAT h f 1.5", "HINCRBYFLOAT h f 1e3", "HINCRBYFLOAT h b 0.5", "HDEL h b c d n f",
            "HINCRBYFLOAT h a x"],
        ["lists"] = [
            "RPUSH l a b c d e f", "LPUSH l z", "LPUSHX nol a", "RPUSHX l g", "LPOP l", "RPOP l 2", "LPOP l 0",
            "LPOP nol", "LINSERT l BEFORE zz x", "LINSERT l BEFORE c x", "LSET l 0 y", "LTRIM l 0 100", "LTRIM l 1 -1",
            "LREM l 0 zz", "LREM l 0 x", "LMOVE l l2 LEFT RIGHT", "RPOPLPUSH l l2", "LMOVE nol l2 left left",
            "LMPOP 1 l LEFT COUNT 50", "LMPOP 2 nol l2 RIGHT", "LMPOP 1 nol left", "LPOS l2 c"],
        ["lists-blocking-immediate"] = [
            "RPUSH l a b c d", "BLPOP nol l 0", "BRPOP l 0", "BLMOVE l l2 RIGHT LEFT 0", "BRPOPLPUSH l2 l 0",
            "BLMPOP 0 2 nol l RIGHT COUNT 10", "RPUSH l a", "BLMPOP 0 1 l LEFT"],
        ["lists-blocking-served"] = [
            "@2 BLPOP bl 0", "RPUSH bl a b", "@2 BRPOP bl2 0", "RPUSH bl2 a b", "@2 BLMOVE bm bd left right 0", "RPUSH bm x y",
            "@2 BRPOPLPUSH bq bd 0", "LPUSH bq x", "@2 BLMPOP 0 2 nol bp RIGHT COUNT 5", "RPUSH bp a b c",
            "@2 BLMPOP 0 1 bp2 LEFT", "RPUSH bp2 a b"],
        ["sets"] = [
            "SADD s a b c", "SADD s a", "SREM s zz", "SREM s a", "SMOVE s s2 b", "SMOVE s s2 zz", "SMOVE nos s2 a",
            "SADD t c d", "SINTERSTORE i s t", "SUNIONSTORE u s t", "SDIFFSTORE d s t", "SINTERSTORE i nos t",
            "SINTERSTORE i2 nos t", "SPOP nos", "SPOP s 0", "SADD one x", "SPOP one", "SADD two x y", "SPOP two 5",
            "SADD three x", "SPOP three 1", "SRANDMEMBER t", "SRANDMEMBER t 5"],
        ["sorted-sets"] = [
            "ZADD z 1 a 2 b 3 c 4 d 5 e", "ZADD z 1 a", "ZADD z NX 9 a", "ZADD z XX CH 7 a", "ZADD z INCR 1 a",
            "ZINCRBY z 1.5 b", "ZREM z zz", "ZREM z a", "ZREMRANGEBYSCORE z 100 200", "ZREMRANGEBYRANK z 0 0",
            "ZREMRANGEBYLEX z [zz [zzz", "ZPOPMIN z", "ZPOPMAX z 1", "ZPOPMIN z 0", "ZPOPMIN noz",
            "ZADD z 1 a 2 b", "ZMPOP 1 z MIN COUNT 10", "ZADD z 1 a 2 b", "ZMPOP 2 noz z MAX", "ZPOPMAX z 10"],
        ["sorted-sets-store"] = [
            "ZADD z 1 a 2 b 3 c", "ZADD y 2 b", "ZRANGESTORE dst z 0 1", "ZRANGESTORE dst noz 0 -1",
            "ZRANGESTORE dst2 noz 0 -1", "ZUNIONSTORE u 2 z y", "ZINTERSTORE i 2 z y", "ZDIFFSTORE d 2 z y",
            "ZINTERSTORE i 2 z noz", "ZINTERSTORE i3 2 z noz"],
        ["sorted-sets-blocking"] = [
            "ZADD z 1 a 2 b 3 c", "BZPOPMIN z 0", "BZPOPMAX noz z 0", "BZMPOP 0 1 z MIN COUNT 5",
            "@2 BZPOPMIN bz 0", "ZADD bz 1 a 2 b", "@2 BZPOPMAX bz2 0", "ZADD bz2 1 a 2 b",
            "@2 BZMPOP 0 1 bz3 MAX COUNT 10", "ZADD bz3 1 a 2 b"],
        ["streams-add-trim"] = [
            "XADD s 1-1 a 1", "XADD s 1-2 a 1", "XADD s 1-3 a 1", "XADD s 1-4 a 1", "XADD s MAXLEN 3 1-5 a 1",
            "XADD s MAXLEN = 10 1-6 a 1", "XADD s MAXLEN ~ 10 1-7 a 1", "XADD s MINID 1-3 1-8 a 1",
            "XADD s MINID ~ 1-3 1-9 a 1", "XTRIM s MAXLEN 100", "XTRIM s MAXLEN 6", "XTRIM s MINID 1-5",
            "XTRIM s MINID = 1-6", "XTRIM s MAXLEN ~ 3", "XADD s 1-9 a 1", "XADD nos NOMKSTREAM * a 1", "XADD s * a 1",
            "XADD s 2-* a 1", "XDEL s 9-9", "XDEL s 1-9", "XSETID s 99-0", "XTRIM s MAXLEN ~ 0", "XTRIM s MAXLEN 0"],
        ["streams-groups"] = [
            "XADD q 1-1 a 1", "XADD q 1-2 a 1", "XADD q 1-3 a 1", "XADD q 1-4 a 1", "XGROUP CREATE q g 0",
            "XGROUP CREATE q g 0", "XGROUP CREATE q g2 $ MKSTREAM", "XGROUP CREATE nq g 0 MKSTREAM",
            "XREADGROUP GROUP g n1 NOACK COUNT 1 STREAMS q >", "XREADGROUP GROUP g n2 COUNT 1 STREAMS q >",
            "XREADGROUP GROUP g n3 COUNT 1 STREAMS q 0", "XREADGROUP GROUP g n2 COUNT 1 STREAMS q 0",
            "XREADGROUP GROUP g n4 COUNT 2 STREAMS q >", "XREADGROUP GROUP g n5 COUNT 5 STREAMS q >",
            "XGROUP CREATECONSUMER q g n5", "XGROUP CREATECONSUMER q g n6", "XGROUP CREATECONSUMER q g n6",
            "XCLAIM q g n6 0 1-1", "XCLAIM q g n6 0 1-2", "XCLAIM q g n6 0 1-2 JUSTID", "XCLAIM q g n7 0 1-3 RETRYCOUNT 7 FORCE LASTID 1-9",
            "XAUTOCLAIM q g n8 0 0 COUNT 1", "XDEL q 1-4", "XAUTOCLAIM q g n8 0 0", "XAUTOCLAIM q g n8 0 0 JUSTID",
            "XACK q g 1-2", "XACK q g 1-2", "XGROUP SETID q g 0", "XGROUP SETID q g 1-1 ENTRIESREAD 1",
            "XGROUP DELCONSUMER q g n1", "XGROUP DELCONSUMER q g nobody", "XGROUP DESTROY q g2", "XGROUP DESTROY q g2"],
        ["streams-blocking"] = [
            "XGROUP CREATE bs g $ MKSTREAM", "@2 XREADGROUP GROUP g c1 BLOCK 0 STREAMS bs >", "XADD bs 5-5 f v",
            "@2 XREADGROUP GROUP g c2 NOACK BLOCK 0 COUNT 5 STREAMS bs >", "XADD bs 5-6 f v",
            "@2 XREAD BLOCK 0 STREAMS bs $", "XADD bs 5-7 f v"],
        ["hll-geo-bits"] = [
            "PFADD h a b c", "PFADD h a", "PFADD h2", "PFADD h2", "PFCOUNT h", "PFCOUNT h", "PFADD h d", "PFCOUNT h h2", "PFMERGE m h h2",
            "PFMERGE m2", "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", "GEOADD g NX 13.361389 38.115556 Palermo",
            "GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 200 km ASC", "GEOSEARCHSTORE gs2 g FROMLONLAT 0 0 BYRADIUS 1 km",
            "GEORADIUS g 15 37 200 km STORE gr", "SETBIT b 7 1", "SETBIT b 7 1", "SETBIT b 100 0",
            "BITFIELD bf GET u8 0", "BITFIELD bf SET u8 0 255", "BITFIELD bf INCRBY u8 0 10 GET u8 0",
            "BITFIELD bf OVERFLOW FAIL INCRBY u8 0 300", "BITOP OR dest b bf", "BITOP AND dest2 nokey nokey2"],
        ["sort-store"] = [
            "RPUSH l 3 1 2", "SORT l STORE dst", "SORT nol STORE dst", "SORT nol STORE dst2", "SORT l LIMIT 0 1 STORE dst3"],
        ["restore-dump"] = [
            "SET a hello", "DEL a"],
        ["noops-and-edges"] = [
            "SET a 1", "RENAME a a", "RENAMENX a a", "COPY a a", "SWAPDB 0 0", "SWAPDB 1 1", "MOVE nokey 1",
            "LPUSH l a", "LINSERT l AFTER zz v", "LSET l 5 x", "HSET h f v", "HSETNX h f v", "HDEL h zz",
            "ZADD z GT 1 a", "ZADD z GT 0 a", "ZADD z LT CH 5 a", "ZINCRBY z 0 a", "ZADD z 1 a",
            "PFADD p", "PFADD p a", "PFCOUNT p", "PFCOUNT p", "PFMERGE p", "SETBIT b 0 0", "SETBIT b 0 0",
            "BITFIELD b GET u4 0", "BITOP AND dd nokey", "BITOP AND b2 b b", "GETSET a 1", "DEL a", "EXPIRE nokey 10",
            "PERSIST nokey", "DECRBY nokey 0", "INCRBYFLOAT nokey2 0", "APPEND a \"\"", "APPEND nk \"\"", "SADD sx a",
            "SMOVE sx sx a", "SMOVE sx sy b", "LMOVE l l LEFT LEFT", "SETRANGE nk 0 \"\"", "HINCRBY h n 0",
            "HINCRBYFLOAT h m 0", "ZREM nokey a", "SREM nokey a", "LREM nokey 0 a", "LTRIM nokey 0 1", "XDEL nokey 1-1"],
        ["streams-id-forms"] = [
            "XADD x5 5 a 1", "XADD x5 5 a 1", "XADD x5 5-* a 1", "XADD x5 MAXLEN ~ 1 LIMIT 10 * a 1",
            "XTRIM x5 MAXLEN ~ 0 LIMIT 10", "XADD x6 MINID ~ 0 1-1 a 1", "XADD x6 MAXLEN ~ 0 1-2 a 1",
            "XGROUP CREATE x6 g 0", "XCLAIM x6 g c 0 1-1 LASTID 9-9", "XCLAIM x6 g c 0 1-1 FORCE", "XDEL x6 1-1",
            "XCLAIM x6 g d 0 1-1", "XAUTOCLAIM x6 g d 0 0"],
        ["transactions-blocking"] = [
            "RPUSH l a b", "MULTI", "BLPOP l 0", "BLMOVE l l2 LEFT RIGHT 0", "BZPOPMIN noz 0", "EXEC",
            "@2 BLPOP bl 0", "MULTI", "RPUSH bl x", "RPUSH other y", "EXEC",
            "@2 BLMOVE bm bd LEFT RIGHT 0", "SET bd notalist", "RPUSH bm x", "DEL bd", "RPUSH bm2 z"],
        ["lazyfree-unlink"] = [
            "CONFIG SET lazyfree-lazy-expire yes", "CONFIG SET lazyfree-lazy-user-del yes", "CONFIG SET lazyfree-lazy-server-del yes",
            "SET a 1", "EXPIRE a -1", "SET a 1", "GETEX a PXAT 1", "SET a 1", "GETDEL a", "SADD s a b", "SPOP s 5",
            "SET c 1", "DEL c", "SET c 1", "UNLINK c"],
        ["streams-groups-more"] = [
            "XADD a 1-1 f v", "XADD a 1-2 f v", "XADD b 2-1 f v", "XGROUP CREATE a g 0", "XGROUP CREATE b g 0",
            "XREADGROUP GROUP g c COUNT 1 STREAMS a b > >", "XREADGROUP GROUP g d NOACK STREAMS a b > >",
            "XREADGROUP GROUP g d NOACK STREAMS a b > >", "XGROUP SETID a g 0", "XREADGROUP GROUP g e STREAMS a >",
            "XGROUP SETID a g 0 ENTRIESREAD 0", "XREADGROUP GROUP g f NOACK COUNT 1 STREAMS a >", "XPENDING a g",
            "XCLAIM a g c 0 1-1 1-2 9-9 IDLE 100 JUSTID", "XCLAIM a g c 0 1-1 TIME 1000 RETRYCOUNT 9", "XACK a g 1-1 1-2 1-3",
            "XGROUP CREATECONSUMER a g z", "XGROUP DELCONSUMER a g z", "XGROUP DESTROY a g", "XGROUP DESTROY a g",
            "XSETID b 5-0 ENTRIESADDED 10 MAXDELETEDID 3-0", "XREADGROUP GROUP g c STREAMS b >"],
        ["mixed-databases"] = [
            "SELECT 3", "SET a 1 EX 100", "SELECT 5", "RPUSH l a", "SELECT 3", "@2 BLPOP l 0", "SELECT 0", "MULTI",
            "SELECT 3", "RPUSH l x", "SELECT 0", "INCRBYFLOAT f 1", "EXEC", "SWAPDB 3 4", "SELECT 4", "GETDEL a"],
        ["bits-hll-edges"] = [
            "BITFIELD nb SET u8 0 0", "BITFIELD nb SET u8 0 0", "BITFIELD nb INCRBY u8 0 0", "BITFIELD_RO nb GET u8 0",
            "BITFIELD nb2 OVERFLOW FAIL INCRBY u2 0 5", "SETBIT nb3 0 0", "BITOP NOT nb4 nokey", "BITOP OR nb5 nb nb",
            "PFADD hl", "PFADD hl", "PFADD hl a b", "PFMERGE hl", "PFMERGE hl2 nokey", "PFCOUNT nokey", "PFCOUNT hl", "PFCOUNT hl",
            "APPEND s abc", "SETRANGE s 10 x", "GETRANGE s 0 -1", "LCS s s", "STRLEN s", "GEOADD g 1 1 m", "GEOSEARCHSTORE g2 g FROMMEMBER m BYBOX 10 10 km STOREDIST",
            "GEORADIUSBYMEMBER g m 10 km STORE g3", "GEOADD g XX CH 2 2 m 3 3 n"],
        ["scripts-and-functions"] = [
            "EVAL \"redis.call('SET', KEYS[1], 'x'); return redis.call('INCR', 'n')\" 1 a",
            "EVAL \"return redis.call('GET', KEYS[1])\" 1 a",
            "EVAL \"redis.call('SET', 'one', '1')\" 0",
            "EVAL \"redis.call('SPOP', 'noset'); redis.call('EXPIRE', 'one', 100); redis.call('INCRBYFLOAT', 'f', 1.5)\" 0",
            "EVAL \"redis.set_repl(redis.REPL_NONE); redis.call('SET', 'hidden', '1'); redis.set_repl(redis.REPL_ALL); redis.call('SET', 'shown', '1')\" 0",
            "EVAL \"redis.set_repl(redis.REPL_SLAVE); redis.call('SET', 'replonly', '1')\" 0",
            "EVAL \"redis.call('SELECT', 2); redis.call('SET', 'in2', '1')\" 0",
            "SET after 1",
            "FUNCTION LOAD \"#!lua name=lib\nredis.register_function('f', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\"",
            "FCALL f 1 fk fv",
            "FUNCTION DELETE lib"],
        ["transactions"] = [
            "MULTI", "SET a 1", "EXPIRE a 100", "EXEC", "MULTI", "GET a", "EXEC", "MULTI", "SET b 1", "EXEC",
            "MULTI", "INCR a", "INCR b", "GET a", "EXEC", "MULTI", "DEL nokey", "SET c 1", "EXEC",
            "MULTI", "SELECT 1", "SET a 1", "SELECT 0", "INCRBYFLOAT a 1", "EXEC"],
        ["failures"] = [
            "SET a 1", "LPUSH a x", "INCR a x", "SET s x", "INCR s", "EXPIRE a notanumber", "HSET a f v",
            "SET a 1 EX 0", "SET a 1 EX -5", "GETEX a EX 0", "XADD s 1-1 a 1"],
        ["lazy-expire"] = [
            "SET a 1 PXAT 1000", "GET a", "SET b 1", "PEXPIREAT b 1", "SET c 1 EX 100"],
    };
}
