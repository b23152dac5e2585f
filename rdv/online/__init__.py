"""Online booking by the public (usagers and prescripteurs): verification codes, manage links and
fairness limits, on top of rdv.bookings (whose services create and change the RDVs and whose
SlotHold holds a slot while someone books). The pages live in rdv.www.public."""
