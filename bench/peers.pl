#!/usr/bin/perl
# peers.pl -- the Perl modules users run today, on mmshare's workload: forked workers get and set
# one value for a fixed time. Writes an mmshare-peers/1 JSON file for reports/report.py.
#
# usage: peers.pl [--procs 1,2] [--write-ratio 10,50] [--size 64] [--duration 1] --json OUT
use strict;
use warnings;
use Getopt::Long;
use JSON::PP;
use POSIX qw(_exit);
use Storable qw(freeze thaw);
use Time::HiRes qw(time);
use File::Temp qw(tempdir);

my %o = (procs => '1,2', 'write-ratio' => '10,50', size => 64, duration => 1);
GetOptions(\%o, 'procs=s', 'write-ratio=s', 'size=i', 'duration=f', 'json=s')
	&& $o{json} && $o{size} > 0 && $o{duration} > 0
	or die "usage: peers.pl [--procs 1,2] [--write-ratio 10,50] [--size 64] [--duration 1] --json OUT\n";
my $dir = tempdir(CLEANUP => 1);

# Each peer: a name, and a constructor returning (set, get, close) closures for one share.
my %peers = (
	'IPC::ShareLite+Storable' => sub {
		require IPC::ShareLite;
		my $key = 0x6d6d0000 + ($$ & 0xffff);
		my $s = IPC::ShareLite->new(-key => $key, -create => 'yes', -destroy => 'yes',
					    -size => 65536) or die "IPC::ShareLite: $!\n";
		return (sub { $s->store(freeze(\$_[0])) }, sub { ${ thaw($s->fetch) } }, sub { undef $s });
	},
	'Cache::FastMmap' => sub {
		require Cache::FastMmap;
		my $c = Cache::FastMmap->new(share_file => "$dir/fastmmap", init_file => 1,
					     num_pages => 1, page_size => 65536, serializer => '',
					     unlink_on_exit => 1);
		return (sub { $c->set('v', $_[0]) }, sub { $c->get('v') }, sub { undef $c });
	},
);

# Workers wait at a pipe, run until the deadline, and report their operations and seconds.
sub run_point {
	my ($make, $procs, $write) = @_;
	my ($set, $get, $close) = $make->();
	my $value = 'x' x $o{size};
	$set->($value);
	pipe(my $gate_r, my $gate_w) or die "pipe: $!\n";
	pipe(my $res_r, my $res_w) or die "pipe: $!\n";
	my @pids;
	for my $w (1 .. $procs) {
		my $pid = fork() // die "fork: $!\n";
		if (!$pid) {
			close $gate_w;
			close $res_r;
			sysread($gate_r, my $go, 1);
			srand($$);
			my ($n, $t0) = (0, time);
			my $end = $t0 + $o{duration};
			while (1) {
				for (1 .. 64) {
					if (rand(100) < $write) { $set->($value) } else { $get->() }
				}
				$n += 64;
				last if time >= $end;
			}
			syswrite($res_w, sprintf("%d %.9f\n", $n, time - $t0));
			_exit(0);
		}
		push @pids, $pid;
	}
	close $gate_r;
	close $res_w;
	close $gate_w;                  # every worker's read returns: they start together
	my ($ops, $secs) = (0, 0);
	while (my $line = <$res_r>) {
		my ($n, $s) = split ' ', $line;
		$ops += $n;
		$secs = $s if $s > $secs;
	}
	waitpid($_, 0) for @pids;
	$close->();
	return { procs => $procs + 0, write_ratio => $write + 0, size => $o{size} + 0,
		 ops => $ops, duration_s => $secs + 0, ops_per_sec => $secs ? $ops / $secs : 0 };
}

my @results;
for my $name (sort keys %peers) {
	for my $procs (split /,/, $o{procs}) {
		for my $write (split /,/, $o{'write-ratio'}) {
			my $r = run_point($peers{$name}, $procs, $write);
			$r->{peer} = $name;
			push @results, $r;
			printf STDERR "%-24s procs=%d write=%d%% size=%d: %.0f ops/s\n", $name, $procs,
				$write, $o{size}, $r->{ops_per_sec};
		}
	}
}
my $cmd = join(' ', 'bench/peers.pl', map { "--$_ $o{$_}" } grep { $_ ne 'json' } sort keys %o);
open(my $fh, '>', $o{json}) or die "$o{json}: $!\n";
print $fh JSON::PP->new->canonical->pretty->encode({ schema => 'mmshare-peers/1', command => $cmd,
	versions => { 'IPC::ShareLite' => eval { require IPC::ShareLite; IPC::ShareLite->VERSION },
		      'Cache::FastMmap' => eval { require Cache::FastMmap; Cache::FastMmap->VERSION },
		      perl => sprintf('%vd', $^V) },
	results => \@results });
close($fh) or die "$o{json}: $!\n";
